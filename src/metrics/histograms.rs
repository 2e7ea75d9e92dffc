//! Wait histograms, held by key.
//!
//! A run records one histogram per kind of wait: today `wait_first` and `wait_resumed`, later
//! one per interval or channel too. They are kept by key, in key order, so recording, merging,
//! writing and reading them is the same code however many there are, and two sets with the
//! same counts give the same bytes whatever order they were built or merged in.

use hdrhistogram::Histogram;

/// Waits of picked-up first contacts.
pub const WAIT_FIRST: &str = "wait_first";
/// Waits of picked-up resumed contacts.
pub const WAIT_RESUMED: &str = "wait_resumed";
/// The histograms every run records, in key order.
pub const WAIT_KEYS: [&str; 2] = [WAIT_FIRST, WAIT_RESUMED];

/// Wait histograms record milliseconds.
pub const HISTOGRAM_UNIT_S: f64 = 0.001;

/// `seconds` in histogram units, rounded half away from zero: exactly `(seconds /
/// HISTOGRAM_UNIT_S).round() as u64` for the non-negative times recorded, without the call to
/// libm's `round` that the default x86-64 target makes (it has no rounding instruction).
#[inline]
pub fn histogram_units(seconds: f64) -> u64 {
    let units = seconds / HISTOGRAM_UNIT_S;
    // Truncation is exact, and so is the fraction below 2^53; from 2^52 every float is whole.
    // Signed conversions are one instruction each (times stay far below 2^63 units).
    let whole = units as i64;
    (whole + i64::from(units - whole as f64 >= 0.5)) as u64
}

/// A wait histogram (milliseconds, 3 significant digits). It starts small and grows to the
/// longest wait recorded, so short-wait runs stay small in memory and on disk.
pub fn new_wait_histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is valid")
}

/// Wait histograms by key, in key order (a sorted vector: a run has a handful, and the
/// recorder reaches its own by index, with no lookup per contact).
#[derive(Debug, Clone, Default)]
pub struct Histograms {
    entries: Vec<(String, Histogram<u64>)>,
}

impl Histograms {
    /// Empty wait histograms for `keys` (repeats ignored).
    pub fn with_keys<K: Into<String>>(keys: impl IntoIterator<Item = K>) -> Self {
        let mut set = Self::default();
        for key in keys {
            set.entry(key.into());
        }
        set
    }

    /// Empty histograms for [`WAIT_KEYS`], the set every run records.
    pub fn waits() -> Self {
        Self::with_keys(WAIT_KEYS)
    }

    /// The position of `key`, which stays valid until a key is added.
    pub fn index_of(&self, key: &str) -> Option<usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok()
    }

    /// The histogram at `index` (from [`Self::index_of`]).
    pub fn at(&self, index: usize) -> &Histogram<u64> {
        &self.entries[index].1
    }

    /// The histogram at `index` (from [`Self::index_of`]), to record into.
    pub fn at_mut(&mut self, index: usize) -> &mut Histogram<u64> {
        &mut self.entries[index].1
    }

    /// The histogram of `key`, if there is one.
    pub fn get(&self, key: &str) -> Option<&Histogram<u64>> {
        self.index_of(key).map(|i| &self.entries[i].1)
    }

    /// The histogram of `key`, added empty if there is none.
    pub fn entry(&mut self, key: String) -> &mut Histogram<u64> {
        let index = match self.entries.binary_search_by(|(k, _)| k.as_str().cmp(&key)) {
            Ok(index) => index,
            Err(index) => {
                self.entries.insert(index, (key, new_wait_histogram()));
                index
            }
        };
        &mut self.entries[index].1
    }

    /// Adds `other`'s counts key by key (keys missing here are added).
    pub fn add(&mut self, other: &Histograms) {
        for (key, histogram) in &other.entries {
            // Auto-resizing histograms of the same precision always add.
            let _ = self.entry(key.clone()).add(histogram);
        }
    }

    /// `(key, histogram)` in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Histogram<u64>)> {
        self.entries.iter().map(|(k, h)| (k.as_str(), h))
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }
}

/// A histogram as text: HdrHistogram's compressed V2 encoding in base64, the form other
/// HdrHistogram tools read. The encoding is canonical: equal counts give equal text, however
/// the histogram grew (so merged shards write the same bytes as one run).
pub fn encode_histogram(histogram: &Histogram<u64>) -> String {
    use base64::Engine as _;
    use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
    let high = histogram.max().max(2).next_power_of_two();
    let mut canonical = Histogram::<u64>::new_with_bounds(1, high, 3).expect("bounds are valid");
    // The range covers the largest value recorded, so adding cannot fail.
    let _ = canonical.add(histogram);
    let mut bytes = Vec::new();
    // Writing to a Vec cannot fail, and the histogram's counts always encode.
    let _ = V2DeflateSerializer::new().serialize(&canonical, &mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The inverse of [`encode_histogram`].
pub fn decode_histogram(text: &str) -> Result<Histogram<u64>, String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("not base64: {e}"))?;
    let mut histogram: Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("not an HdrHistogram: {e:?}"))?;
    histogram.auto(true);
    Ok(histogram)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_units_round_exactly_as_round_does() {
        let mut x = 0.0_f64;
        let mut cases = vec![0.0, 0.0005, 0.0004999999999999999, 0.0015, 1e-9, 12.3455, 86_400.0, 3e9, 1e15];
        for _ in 0..100_000 {
            x = x * 1.37 + 0.000_123_4;
            if x > 1e7 {
                x /= 1e7;
            }
            cases.push(x);
        }
        for s in cases {
            assert_eq!(histogram_units(s), (s / HISTOGRAM_UNIT_S).round() as u64, "{s}");
        }
    }

    #[test]
    fn histograms_survive_encoding_and_merge_exactly() {
        let mut a = new_wait_histogram();
        let mut b = new_wait_histogram();
        for v in [0u64, 5, 1_000, 123_456] {
            a.record(v).unwrap();
        }
        b.record(9_999_999).unwrap();
        let mut decoded = decode_histogram(&encode_histogram(&a)).unwrap();
        let recorded = |h: &Histogram<u64>| {
            h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect::<Vec<_>>()
        };
        assert_eq!(recorded(&decoded), recorded(&a));
        // Same counts, different growth history: same text.
        let mut grown = new_wait_histogram();
        grown.record(1 << 40).unwrap();
        grown.reset();
        for v in [0u64, 5, 1_000, 123_456] {
            grown.record(v).unwrap();
        }
        assert_eq!(encode_histogram(&grown), encode_histogram(&a));
        decoded.add(&b).unwrap();
        assert_eq!(decoded.len(), 5);
        assert_eq!(decoded.value_at_quantile(1.0), b.value_at_quantile(1.0));
    }

    #[test]
    fn sets_keep_key_order_and_merge_key_by_key() {
        let mut a = Histograms::with_keys(["wait_resumed", "wait_first", "wait_first"]);
        assert_eq!(a.keys().collect::<Vec<_>>(), ["wait_first", "wait_resumed"]);
        let first = a.index_of(WAIT_FIRST).unwrap();
        a.at_mut(first).record(7).unwrap();
        let mut b = Histograms::waits();
        b.entry("wait_first.chat".into()).record(3).unwrap();
        b.entry(WAIT_FIRST.into()).record(9).unwrap();
        // Merged either way round: the same keys, order and counts.
        let mut ab = a.clone();
        ab.add(&b);
        let mut ba = b.clone();
        ba.add(&a);
        let text =
            |s: &Histograms| s.iter().map(|(k, h)| (k.to_string(), encode_histogram(h))).collect::<Vec<_>>();
        assert_eq!(text(&ab), text(&ba));
        assert_eq!(ab.keys().collect::<Vec<_>>(), ["wait_first", "wait_first.chat", "wait_resumed"]);
        assert_eq!(ab.get(WAIT_FIRST).unwrap().len(), 2);
        assert!(ab.get("wait_second").is_none());
    }
}
