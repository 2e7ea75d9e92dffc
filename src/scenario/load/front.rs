//! What happens before a human answers: the `bot` tier and the customer's `typing`, both
//! optional keys of a conversation (`[conversation]` or a channel's `conversation`).

use super::dists::{distribution, Domain};
use super::fields::{Section, Sign};
use crate::error::FieldError;
use crate::scenario::model::{Bot, Typing};

const BOT_KEYS: &[&str] = &["containment", "time"];
const TYPING_KEYS: &[&str] = &["time", "preview", "head_start"];

const TIME_WHAT: &str = "a distribution like { dist = \"lognormal\", mean = \"90s\", cv = 1.0 }";

/// `bot = { containment = 0.35, time = {...} }`, if present.
pub(super) fn bot(conversation: &Section<'_>) -> Result<Option<Bot>, FieldError> {
    let what =
        "a table like { containment = 0.35, time = { dist = \"lognormal\", mean = \"90s\", cv = 1.0 } }";
    let Some(table) = conversation.table("bot", what)? else { return Ok(None) };
    let sec = Section::new(table, &conversation.path("bot"), BOT_KEYS)?;
    let containment = sec.req_number("containment", Sign::NonNegative, "a share from 0 to 1")?;
    if containment > 1.0 {
        return Err(FieldError::new(
            sec.path("containment"),
            format!("expected a share from 0 to 1, got {containment}"),
        ));
    }
    let time = sec.get("time").ok_or_else(|| sec.missing("time", TIME_WHAT))?;
    let time = distribution(time, &sec.path("time"), Domain::Time)?.dist;
    Ok(Some(Bot { containment, time }))
}

/// `typing = { time = {...}, preview = true, head_start = 0.5 }`, if present.
pub(super) fn typing(conversation: &Section<'_>) -> Result<Option<Typing>, FieldError> {
    let what = "a table like { time = { dist = \"exponential\", mean = \"40s\" }, preview = true, head_start = 0.5 }";
    let Some(table) = conversation.table("typing", what)? else { return Ok(None) };
    let sec = Section::new(table, &conversation.path("typing"), TYPING_KEYS)?;
    let time = sec.get("time").ok_or_else(|| sec.missing("time", TIME_WHAT))?;
    let time = distribution(time, &sec.path("time"), Domain::Time)?.dist;
    let preview = sec.boolean("preview")?.unwrap_or(false);
    let head_start = sec.number("head_start", Sign::NonNegative, "a share of the handle time from 0 to 1")?;
    if head_start.is_some() && !preview {
        return Err(FieldError::new(
            sec.path("head_start"),
            "head_start applies only with preview = true (without preview, typing only delays the send)",
        ));
    }
    let head_start = head_start.unwrap_or(0.5);
    if head_start > 1.0 {
        return Err(FieldError::new(
            sec.path("head_start"),
            format!("expected a share of the handle time from 0 to 1, got {head_start}"),
        ));
    }
    Ok(Some(Typing { time, preview, head_start }))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::scenario::parse_scenario;

    fn with(conversation_extra: &str) -> Result<crate::scenario::Scenario, String> {
        let text = format!(
            "name = \"t\"\nhorizon = \"1d\"\n[arrivals]\nrate_per_hour = 10\n[conversation]\n\
             exchanges = {{ dist = \"fixed\", value = 1 }}\nhandle_time = {{ dist = \"exponential\", mean = \"4m\" }}\n\
             {conversation_extra}\n[[agents]]\nname = \"a\"\ncount = 3\n[policy]\nkind = \"next_available\"\n"
        );
        parse_scenario(&text, Path::new("t.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn bot_and_typing_load_with_their_defaults() {
        let s = with(
            "bot = { containment = 0.35, time = { dist = \"fixed\", value = \"90s\" } }\n\
             typing = { time = { dist = \"exponential\", mean = \"40s\" }, preview = true }",
        )
        .unwrap();
        let c = &s.channels[0].conversation;
        assert_eq!(c.bot.as_ref().map(|b| b.containment), Some(0.35));
        let typing = c.typing.as_ref().unwrap();
        assert!(typing.preview);
        assert_eq!(typing.head_start, 0.5);
        let plain = with("typing = { time = { dist = \"fixed\", value = \"10s\" } }").unwrap();
        assert!(!plain.channels[0].conversation.typing.as_ref().unwrap().preview);
    }

    #[test]
    fn bad_bots_and_typing_are_keyed_errors() {
        let cases = [
            (
                "bot = { containment = 1.5, time = { dist = \"fixed\", value = 1 } }",
                "conversation.bot.containment",
            ),
            ("bot = { containment = 0.5 }", "conversation.bot.time"),
            (
                "bot = { containment = 0.5, time = { dist = \"fixed\", value = 1 }, tier = 2 }",
                "conversation.bot",
            ),
            ("bot = 3", "conversation.bot"),
            ("typing = { preview = true }", "conversation.typing.time"),
            (
                "typing = { time = { dist = \"fixed\", value = 1 }, preview = true, head_start = 2 }",
                "conversation.typing.head_start",
            ),
            (
                "typing = { time = { dist = \"fixed\", value = 1 }, head_start = 0.5 }",
                "conversation.typing.head_start",
            ),
            (
                "typing = { time = { dist = \"fixed\", value = 1 }, preview = \"yes\" }",
                "conversation.typing.preview",
            ),
        ];
        for (extra, key) in cases {
            let error = with(extra).unwrap_err();
            assert!(error.contains(key), "{extra}: {error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }
}
