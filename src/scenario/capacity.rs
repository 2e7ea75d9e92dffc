//! The capacity model of a channel (`[capacity]`, scenario-wide or per channel): how much of an
//! agent's capacity one of its contacts uses, and whether a conversation keeps holding part of
//! it between contacts (messaging semantics).
//!
//! Capacity is counted in integer units so that weights add up exactly: a slot is
//! [`SLOT_UNITS`] units, a weight has at most 3 decimals (per-mille), and an inactive
//! conversation holds weight × inactive weight, a product of two per-mille numbers, which is a
//! whole number of units.

/// Units in one slot (one contact of weight 1): per-mille weight × per-mille inactive weight.
pub const SLOT_UNITS: u64 = 1_000_000;

/// Whether and how a conversation holds capacity between its contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hold {
    /// A slot is used only while a contact is in handling (the model before `[capacity]`).
    #[default]
    None,
    /// After a reply the conversation holds its whole weight for `inactive_after`, then
    /// `inactive_weight` of it until its next contact, its resolution or its close.
    UntilInactive,
    /// After a reply the conversation holds its whole weight until its next contact, its
    /// resolution or its close (status-based capacity: no inactivity timer).
    UntilClosed,
}

impl Hold {
    /// Names as written in TOML, in the order of [`Self::ALL`].
    pub const NAMES: [&'static str; 3] = ["none", "until_inactive", "until_closed"];
    /// Every mode.
    pub const ALL: [Hold; 3] = [Self::None, Self::UntilInactive, Self::UntilClosed];
}

/// Where the next contact of a conversation that holds capacity goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reactivation {
    /// To its holder at once (if on shift), even past the holder's capacity; counted in
    /// `reactivations_over_capacity` when it goes past.
    #[default]
    Holder,
    /// The hold is released and the policy routes the contact like any resumed contact.
    Policy,
}

impl Reactivation {
    /// Names as written in TOML, in the order of [`Self::ALL`].
    pub const NAMES: [&'static str; 2] = ["holder", "policy"];
    /// Every option.
    pub const ALL: [Reactivation; 2] = [Self::Holder, Self::Policy];
}

/// One channel's capacity model, validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelCapacity {
    /// The preset it came from, if any (for labels).
    pub preset: Option<&'static str>,
    /// Whether conversations hold capacity between contacts.
    pub hold: Hold,
    /// With [`Hold::UntilInactive`]: seconds after a reply at the whole weight.
    pub inactive_after: Option<f64>,
    /// Share of the weight an inactive conversation holds, per mille (0 to 1000).
    pub inactive_milli: u32,
    /// Seconds without a customer message after which a conversation is closed.
    pub close_after: Option<f64>,
    /// Where a held conversation's next contact goes.
    pub reactivation: Reactivation,
    /// The slot share one contact of the channel uses, per mille (1 to 1000).
    pub weight_milli: u32,
}

impl Default for ChannelCapacity {
    fn default() -> Self {
        Self {
            preset: None,
            hold: Hold::None,
            inactive_after: None,
            inactive_milli: 0,
            close_after: None,
            reactivation: Reactivation::Holder,
            weight_milli: 1000,
        }
    }
}

impl ChannelCapacity {
    /// Units one contact of the channel uses while in handling.
    pub fn active_units(&self) -> u64 {
        u64::from(self.weight_milli) * 1000
    }

    /// Units an inactive conversation of the channel holds.
    pub fn inactive_units(&self) -> u64 {
        u64::from(self.weight_milli) * u64::from(self.inactive_milli)
    }

    /// Whether this is the model before `[capacity]`: nothing held, weight 1, no close.
    pub fn is_plain(&self) -> bool {
        self.hold == Hold::None && self.weight_milli == 1000 && self.close_after.is_none()
    }

    /// A short label: the preset's name, or the keys that differ from the default.
    pub fn label(&self) -> String {
        if let Some(name) = self.preset {
            return name.to_string();
        }
        let mut parts = vec![format!("hold={}", Hold::NAMES[self.hold as usize])];
        if let Some(after) = self.inactive_after {
            parts.push(format!("inactive_after={}", crate::duration::format_duration(after)));
            parts.push(format!("inactive_weight={}", f64::from(self.inactive_milli) / 1000.0));
        }
        if let Some(after) = self.close_after {
            parts.push(format!("close_after={}", crate::duration::format_duration(after)));
        }
        if self.hold != Hold::None {
            parts.push(format!("reactivation={}", Reactivation::NAMES[self.reactivation as usize]));
        }
        if self.weight_milli != 1000 {
            parts.push(format!("weight={}", f64::from(self.weight_milli) / 1000.0));
        }
        parts.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_of_three_decimal_weights_add_up_exactly() {
        let c = ChannelCapacity { weight_milli: 333, inactive_milli: 100, ..Default::default() };
        assert_eq!(c.active_units(), 333_000);
        assert_eq!(c.inactive_units(), 33_300);
        // Three contacts of weight 0.333 and one of 0.001 make exactly one slot.
        let tiny = ChannelCapacity { weight_milli: 1, ..Default::default() };
        assert_eq!(3 * c.active_units() + tiny.active_units(), SLOT_UNITS);
        assert!(ChannelCapacity::default().is_plain());
    }
}
