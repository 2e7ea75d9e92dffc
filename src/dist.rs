//! Validated probability distributions and their sampling.
//!
//! A [`Distribution`] is built only from checked parameters (the scenario loader does the
//! checking and names the TOML key at fault), so sampling never fails. Time distributions
//! return seconds; `geometric` and integer-valued `empirical` return counts as `f64`.

use rand::Rng;
use rand_distr::{Distribution as _, Exp, Gamma, LogNormal, Uniform, Weibull};

/// A distribution ready to sample. Construct it with the `new_*` functions, which reject
/// parameters a sampler cannot honour.
#[derive(Debug, Clone)]
pub struct Distribution {
    shape: Shape,
    mean: f64,
}

#[derive(Debug, Clone)]
enum Shape {
    /// Always the same value.
    Fixed(f64),
    /// Exponential with the given mean.
    Exponential(Exp<f64>),
    /// Uniform on `[min, max)`.
    Uniform(Uniform<f64>),
    /// Log-normal with a given mean and coefficient of variation.
    LogNormal(LogNormal<f64>),
    /// Gamma with a given mean and coefficient of variation.
    Gamma(Gamma<f64>),
    /// Weibull with shape and scale.
    Weibull(Weibull<f64>),
    /// Geometric on {1, 2, ...} with success probability `p = 1/mean`.
    Geometric {
        /// `ln(1 - p)`, precomputed for inversion sampling; 0 when `p = 1`.
        ln_one_minus_p: f64,
    },
    /// A finite set of values with weights.
    Empirical(Empirical),
    /// A weighted mixture of other distributions (e.g. a bimodal gap).
    Mixture(Mixture),
}

/// Values with cumulative weights, sampled by binary search.
#[derive(Debug, Clone)]
pub struct Empirical {
    values: Vec<f64>,
    /// Cumulative weights normalised so the last is 1.
    cumulative: Vec<f64>,
}

/// Weighted parts, sampled by picking a part and then sampling it.
#[derive(Debug, Clone)]
pub struct Mixture {
    parts: Vec<Distribution>,
    cumulative: Vec<f64>,
}

/// Why a distribution could not be built; the loader turns this into a keyed message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DistError {
    /// A parameter is out of its domain.
    #[error("{param}: {expected}")]
    Param {
        /// The parameter's key, e.g. `mean`.
        param: &'static str,
        /// What a valid value looks like, with the accepted range.
        expected: String,
    },
}

/// Largest value, mean or scale a distribution accepts (in seconds: about 31,700 years). Bounds
/// like this one keep every sample finite: the largest multiplier a sampler applies to its scale
/// (a Weibull of the smallest shape, a log-normal of the largest cv) stays far from overflow.
pub const MAX_SCALE: f64 = 1e12;
/// Smallest positive mean or scale (in seconds: one microsecond); below it `1/mean` and
/// `mean·cv²` lose their meaning.
pub const MIN_SCALE: f64 = 1e-6;
/// Accepted coefficients of variation of `lognormal` and `gamma`: gamma's shape is `1/cv²`, so
/// a cv of 1e-300 or 1e200 would make the shape infinite or zero.
pub const CV_RANGE: (f64, f64) = (1e-3, 100.0);
/// Accepted Weibull shapes: a sample is `scale·E^(1/shape)`, E exponential (at most about 37
/// with 53-bit uniforms), so a tiny shape overflows.
pub const WEIBULL_SHAPE_RANGE: (f64, f64) = (0.1, 1000.0);

fn check(ok: bool, param: &'static str, expected: impl FnOnce() -> String) -> Result<(), DistError> {
    if ok {
        Ok(())
    } else {
        Err(DistError::Param { param, expected: expected() })
    }
}

/// Checks that `x` lies in `[min, max]` (finite), naming `param` and the range otherwise.
fn in_range(x: f64, (min, max): (f64, f64), param: &'static str, noun: &str) -> Result<(), DistError> {
    check(x.is_finite() && x >= min && x <= max, param, || format!("expected {noun} from {min} to {max}"))
}

/// The range of a scale-like parameter (value, mean, min, max, scale).
fn scale_range(zero_allowed: bool) -> (f64, f64) {
    (if zero_allowed { 0.0 } else { MIN_SCALE }, MAX_SCALE)
}

/// Cumulative weights normalised so the last is 1. The weights are first divided by the power
/// of two at or below their maximum, so huge weights like `[1e308, 1e308]` cannot overflow and
/// behave exactly like `[1, 1]`; a power of two scales exactly, so ordinary weights give the
/// same bits as without the division.
fn cumulative(weights: &[f64]) -> Result<Vec<f64>, DistError> {
    check(!weights.is_empty(), "weights", || "expected at least one weight".into())?;
    check(weights.iter().all(|w| w.is_finite() && *w >= 0.0), "weights", || {
        "expected non-negative finite weights".into()
    })?;
    let max = weights.iter().copied().fold(0.0, f64::max);
    check(max > 0.0, "weights", || "expected weights that sum to a positive number".into())?;
    // The power of two of max's exponent (the smallest normal number if max is subnormal).
    let unit = f64::from_bits(max.to_bits() & (0x7ff << 52)).max(f64::MIN_POSITIVE);
    let mut acc = 0.0;
    let mut out: Vec<f64> = weights
        .iter()
        .map(|w| {
            acc += w / unit;
            acc
        })
        .collect();
    let total = acc;
    for c in &mut out {
        *c /= total;
    }
    if let Some(last) = out.last_mut() {
        *last = 1.0;
    }
    Ok(out)
}

fn pick(cumulative: &[f64], u: f64) -> usize {
    cumulative.partition_point(|&c| c <= u).min(cumulative.len() - 1)
}

/// Maps a rejection by `rand_distr` (which the checks above should make impossible) to an error
/// instead of a panic.
fn built<T, E>(result: Result<T, E>, param: &'static str) -> Result<T, DistError> {
    result.map_err(|_| DistError::Param { param, expected: "expected a value the sampler accepts".into() })
}

impl Distribution {
    /// A constant in `[0, MAX_SCALE]`.
    pub fn new_fixed(value: f64) -> Result<Self, DistError> {
        in_range(value, scale_range(true), "value", "a number")?;
        Ok(Self { shape: Shape::Fixed(value), mean: value })
    }

    /// Exponential with a mean in `[MIN_SCALE, MAX_SCALE]`.
    pub fn new_exponential(mean: f64) -> Result<Self, DistError> {
        in_range(mean, scale_range(false), "mean", "a mean")?;
        Ok(Self { shape: Shape::Exponential(built(Exp::new(1.0 / mean), "mean")?), mean })
    }

    /// Uniform on `[min, max)`, `0 <= min < max <= MAX_SCALE`.
    pub fn new_uniform(min: f64, max: f64) -> Result<Self, DistError> {
        in_range(min, scale_range(true), "min", "a number")?;
        in_range(max, scale_range(true), "max", "a number")?;
        check(max > min, "max", || "expected a number greater than min".into())?;
        Ok(Self { shape: Shape::Uniform(built(Uniform::new(min, max), "max")?), mean: (min + max) / 2.0 })
    }

    /// Log-normal with a mean in `[MIN_SCALE, MAX_SCALE]` and a cv in [`CV_RANGE`].
    pub fn new_lognormal(mean: f64, cv: f64) -> Result<Self, DistError> {
        in_range(mean, scale_range(false), "mean", "a mean")?;
        in_range(cv, CV_RANGE, "cv", "a positive coefficient of variation")?;
        let sigma2 = cv.mul_add(cv, 1.0).ln();
        let mu = mean.ln() - sigma2 / 2.0;
        Ok(Self { shape: Shape::LogNormal(built(LogNormal::new(mu, sigma2.sqrt()), "cv")?), mean })
    }

    /// Gamma with a mean in `[MIN_SCALE, MAX_SCALE]` and a cv in [`CV_RANGE`] (shape `1/cv²`).
    pub fn new_gamma(mean: f64, cv: f64) -> Result<Self, DistError> {
        in_range(mean, scale_range(false), "mean", "a mean")?;
        in_range(cv, CV_RANGE, "cv", "a positive coefficient of variation")?;
        let shape = 1.0 / (cv * cv);
        let scale = mean * cv * cv;
        Ok(Self { shape: Shape::Gamma(built(Gamma::new(shape, scale), "cv")?), mean })
    }

    /// Weibull with a shape in [`WEIBULL_SHAPE_RANGE`] and a scale in `[MIN_SCALE, MAX_SCALE]`.
    pub fn new_weibull(shape: f64, scale: f64) -> Result<Self, DistError> {
        in_range(shape, WEIBULL_SHAPE_RANGE, "shape", "a shape")?;
        in_range(scale, scale_range(false), "scale", "a scale")?;
        Ok(Self {
            shape: Shape::Weibull(built(Weibull::new(scale, shape), "shape")?),
            mean: scale * gamma_function(1.0 + 1.0 / shape),
        })
    }

    /// Geometric on {1, 2, ...} with a mean in `[1, MAX_SCALE]`.
    pub fn new_geometric(mean: f64) -> Result<Self, DistError> {
        in_range(mean, (1.0, MAX_SCALE), "mean", "a mean")?;
        let p = 1.0 / mean;
        // ln_1p keeps a tiny p (a huge mean) from rounding `1 - p` to 1 and every sample to 1.
        let ln_one_minus_p = if p >= 1.0 { 0.0 } else { (-p).ln_1p() };
        Ok(Self { shape: Shape::Geometric { ln_one_minus_p }, mean })
    }

    /// A finite set of values in `[0, MAX_SCALE]` with non-negative weights, at least one positive.
    pub fn new_empirical(values: Vec<f64>, weights: Vec<f64>) -> Result<Self, DistError> {
        check(!values.is_empty(), "values", || "expected at least one value".into())?;
        let (min, max) = scale_range(true);
        check(values.iter().all(|v| v.is_finite() && *v >= min && *v <= max), "values", || {
            format!("expected numbers from {min} to {max}")
        })?;
        check(weights.len() == values.len(), "weights", || "expected as many weights as values".into())?;
        let cumulative = cumulative(&weights)?;
        let mean = weighted_mean(values.iter().copied(), &cumulative);
        Ok(Self { shape: Shape::Empirical(Empirical { values, cumulative }), mean })
    }

    /// A mixture of weighted parts.
    pub fn new_mixture(parts: Vec<(f64, Distribution)>) -> Result<Self, DistError> {
        check(!parts.is_empty(), "parts", || "expected at least one part".into())?;
        let weights: Vec<f64> = parts.iter().map(|(w, _)| *w).collect();
        let cumulative = cumulative(&weights)?;
        let mean = weighted_mean(parts.iter().map(|(_, d)| d.mean), &cumulative);
        let parts = parts.into_iter().map(|(_, d)| d).collect();
        Ok(Self { shape: Shape::Mixture(Mixture { parts, cumulative }), mean })
    }

    /// The distribution's mean (for checks, reports and theory in tests).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// Draws one value.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match &self.shape {
            Shape::Fixed(v) => *v,
            Shape::Exponential(e) => e.sample(rng),
            Shape::Uniform(u) => u.sample(rng),
            Shape::LogNormal(d) => d.sample(rng),
            Shape::Gamma(d) => d.sample(rng),
            Shape::Weibull(d) => d.sample(rng),
            Shape::Geometric { ln_one_minus_p } => {
                if *ln_one_minus_p == 0.0 {
                    return 1.0;
                }
                // Inversion: P(X > k) = (1-p)^k, X in {1, 2, ...}.
                let u: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
                (u.ln() / ln_one_minus_p).floor() + 1.0
            }
            Shape::Empirical(e) => e.values[pick(&e.cumulative, rng.random::<f64>())],
            Shape::Mixture(m) => m.parts[pick(&m.cumulative, rng.random::<f64>())].sample(rng),
        }
    }
}

fn weighted_mean(values: impl Iterator<Item = f64>, cumulative: &[f64]) -> f64 {
    let mut previous = 0.0;
    values
        .zip(cumulative)
        .map(|(v, c)| {
            let w = c - previous;
            previous = *c;
            v * w
        })
        .sum()
}

/// Γ(x) for x > 0 by the Lanczos approximation (g = 7, n = 9), relative error ~1e-15.
fn gamma_function(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma_function(1.0 - x));
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let series = G[1..].iter().enumerate().fold(G[0], |acc, (i, g)| acc + g / (x + i as f64 + 1.0));
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * series
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn sample_mean(d: &Distribution, n: usize) -> f64 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64
    }

    #[test]
    fn geometric_has_requested_mean_and_support() {
        let d = Distribution::new_geometric(4.0).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        assert!((0..10_000).all(|_| d.sample(&mut rng) >= 1.0));
        assert!((sample_mean(&d, 200_000) - 4.0).abs() < 0.05);
        assert_eq!(Distribution::new_geometric(1.0).unwrap().sample(&mut rng), 1.0);
    }

    #[test]
    fn lognormal_and_gamma_match_mean() {
        for d in
            [Distribution::new_lognormal(240.0, 1.5).unwrap(), Distribution::new_gamma(240.0, 0.5).unwrap()]
        {
            let m = sample_mean(&d, 400_000);
            assert!((m - 240.0).abs() / 240.0 < 0.02, "mean {m}");
        }
    }

    #[test]
    fn mixture_and_empirical_pick_by_weight() {
        let d = Distribution::new_mixture(vec![
            (0.7, Distribution::new_fixed(1.0).unwrap()),
            (0.3, Distribution::new_fixed(11.0).unwrap()),
        ])
        .unwrap();
        assert!((sample_mean(&d, 100_000) - 4.0).abs() < 0.1);
        assert!((d.mean() - 4.0).abs() < 1e-9);
        let e = Distribution::new_empirical(vec![1.0, 2.0], vec![1.0, 3.0]).unwrap();
        assert!((sample_mean(&e, 100_000) - 1.75).abs() < 0.02);
    }

    #[test]
    fn weibull_mean_uses_the_gamma_function() {
        let d = Distribution::new_weibull(2.0, 100.0).unwrap();
        assert!((d.mean() - 88.622_692_545_275_8).abs() < 1e-9);
        assert!((sample_mean(&d, 200_000) - d.mean()).abs() / d.mean() < 0.01);
    }

    /// Every sampler at the corners of its accepted range: built without panic, and a fixed
    /// number of draws (including the extreme tails of a few seeds) all finite and non-negative.
    #[test]
    fn every_sampler_builds_and_samples_at_its_boundaries() {
        let scales = [MIN_SCALE, 1.0, MAX_SCALE];
        let cvs = [CV_RANGE.0, 1.0, CV_RANGE.1];
        let shapes = [WEIBULL_SHAPE_RANGE.0, 1.0, WEIBULL_SHAPE_RANGE.1];
        let mut all = Vec::new();
        for &m in &scales {
            all.push(Distribution::new_fixed(m).unwrap());
            all.push(Distribution::new_exponential(m).unwrap());
            all.push(Distribution::new_uniform(0.0, m).unwrap());
            all.push(Distribution::new_geometric(m.max(1.0)).unwrap());
            all.push(Distribution::new_empirical(vec![0.0, m], vec![f64::MAX, 1e-300]).unwrap());
            for &cv in &cvs {
                all.push(Distribution::new_lognormal(m, cv).unwrap());
                all.push(Distribution::new_gamma(m, cv).unwrap());
            }
            for &k in &shapes {
                all.push(Distribution::new_weibull(k, m).unwrap());
            }
        }
        all.push(Distribution::new_fixed(0.0).unwrap());
        all.push(Distribution::new_uniform(MAX_SCALE / 2.0, MAX_SCALE).unwrap());
        let parts = all.iter().map(|d| (f64::MAX, d.clone())).collect();
        all.push(Distribution::new_mixture(parts).unwrap());
        for (i, d) in all.iter().enumerate() {
            assert!(d.mean().is_finite() && d.mean() >= 0.0, "distribution {i}: mean {}", d.mean());
            for seed in 0..4 {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
                for _ in 0..5_000 {
                    let x = d.sample(&mut rng);
                    assert!(x.is_finite() && x >= 0.0, "distribution {i} {d:?} gave {x}");
                }
            }
        }
    }

    #[test]
    fn extreme_parameters_are_errors_not_panics() {
        for cv in [1e300, 1e200, 1e-300, f64::INFINITY, f64::NAN, 0.0] {
            assert!(Distribution::new_lognormal(240.0, cv).is_err(), "lognormal cv {cv}");
            assert!(Distribution::new_gamma(240.0, cv).is_err(), "gamma cv {cv}");
        }
        assert!(Distribution::new_gamma(5e-324, 1.0).is_err());
        assert!(Distribution::new_weibull(1e-3, 1.0).is_err());
        assert!(Distribution::new_exponential(1e300).is_err());
        assert!(Distribution::new_fixed(1e300).is_err());
        assert!(Distribution::new_uniform(0.0, f64::MAX).is_err());
        assert!(Distribution::new_empirical(vec![1e300], vec![1.0]).is_err());
        let err = Distribution::new_gamma(240.0, 1e200).unwrap_err();
        assert_eq!(err.to_string(), "cv: expected a positive coefficient of variation from 0.001 to 100");
    }

    #[test]
    fn huge_weights_behave_like_equal_small_ones() {
        let draws = |weights: Vec<f64>| {
            let d = Distribution::new_empirical(vec![1.0, 2.0], weights).unwrap();
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
            (0..1_000).map(|_| d.sample(&mut rng)).collect::<Vec<f64>>()
        };
        assert_eq!(draws(vec![1e308, 1e308]), draws(vec![1.0, 1.0]));
        assert_eq!(draws(vec![f64::MAX, f64::MAX]), draws(vec![1.0, 1.0]));
        let fixed = |v| (1e308, Distribution::new_fixed(v).unwrap());
        let huge = Distribution::new_mixture(vec![fixed(1.0), fixed(3.0)]).unwrap();
        assert_eq!(huge.mean(), 2.0);
    }

    #[test]
    fn geometric_with_a_huge_mean_is_not_always_one() {
        let d = Distribution::new_geometric(1e12).unwrap();
        assert!(sample_mean(&d, 1_000) > 1e10);
    }

    #[test]
    fn bad_parameters_are_rejected() {
        assert!(Distribution::new_exponential(-1.0).is_err());
        assert!(Distribution::new_lognormal(1.0, 0.0).is_err());
        assert!(Distribution::new_gamma(1.0, -2.0).is_err());
        assert!(Distribution::new_uniform(5.0, 5.0).is_err());
        assert!(Distribution::new_geometric(0.5).is_err());
        assert!(Distribution::new_empirical(vec![1.0], vec![0.0]).is_err());
        assert!(Distribution::new_mixture(vec![]).is_err());
    }
}
