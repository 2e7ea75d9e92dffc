//! "Did you mean": the known name closest to a mistyped one, for every keyed error.

/// The known name closest to `got`, if one is close enough to be a likely typo, or if `got`
/// is the start of exactly one name.
pub fn suggest<'k>(got: &str, known: &[&'k str]) -> Option<&'k str> {
    if got.chars().count() > 64 {
        return None;
    }
    let got = got.to_lowercase();
    let limit = (got.chars().count() / 3).clamp(1, 3);
    // Ties go to a name that extends what was typed ("hybrid-10" → "hybrid-10m", not "hybrid-1m").
    let best = known
        .iter()
        .map(|k| (edit_distance(&got, &k.to_lowercase()), !k.to_lowercase().starts_with(&got), *k))
        .min_by_key(|(d, not_prefix, _)| (*d, *not_prefix))
        .filter(|(d, _, _)| *d <= limit)
        .map(|(_, _, k)| k);
    best.or_else(|| {
        let mut prefixed = known.iter().filter(|k| got.len() >= 2 && k.to_lowercase().starts_with(&got));
        match (prefixed.next(), prefixed.next()) {
            (Some(k), None) => Some(*k),
            _ => None,
        }
    })
}

/// Edit distance counting insertions, deletions, substitutions and adjacent transpositions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * width + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best = (d[(i - 1) * width + j] + 1)
                    .min(d[i * width + j - 1] + 1)
                    .min(d[(i - 1) * width + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(d[(i - 2) * width + j - 2] + 1);
                }
                best
            };
        }
    }
    d[a.len() * width + b.len()]
}
