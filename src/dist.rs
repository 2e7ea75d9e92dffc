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
        /// What a valid value looks like.
        expected: &'static str,
    },
}

fn check(ok: bool, param: &'static str, expected: &'static str) -> Result<(), DistError> {
    if ok {
        Ok(())
    } else {
        Err(DistError::Param { param, expected })
    }
}

fn cumulative(weights: &[f64]) -> Result<Vec<f64>, DistError> {
    check(!weights.is_empty(), "weights", "expected at least one weight")?;
    check(
        weights.iter().all(|w| w.is_finite() && *w >= 0.0),
        "weights",
        "expected non-negative finite weights",
    )?;
    let total: f64 = weights.iter().sum();
    check(total > 0.0, "weights", "expected weights that sum to a positive number")?;
    let mut acc = 0.0;
    let mut out: Vec<f64> = weights
        .iter()
        .map(|w| {
            acc += w;
            acc / total
        })
        .collect();
    if let Some(last) = out.last_mut() {
        *last = 1.0;
    }
    Ok(out)
}

fn pick(cumulative: &[f64], u: f64) -> usize {
    cumulative.partition_point(|&c| c <= u).min(cumulative.len() - 1)
}

impl Distribution {
    /// A constant; must be finite and non-negative.
    pub fn new_fixed(value: f64) -> Result<Self, DistError> {
        check(value.is_finite() && value >= 0.0, "value", "expected a non-negative number")?;
        Ok(Self { shape: Shape::Fixed(value), mean: value })
    }

    /// Exponential with a positive mean.
    pub fn new_exponential(mean: f64) -> Result<Self, DistError> {
        check(mean.is_finite() && mean > 0.0, "mean", "expected a positive number")?;
        Ok(Self { shape: Shape::Exponential(Exp::new(1.0 / mean).expect("rate is positive")), mean })
    }

    /// Uniform on `[min, max)`, `0 <= min < max`.
    pub fn new_uniform(min: f64, max: f64) -> Result<Self, DistError> {
        check(min.is_finite() && min >= 0.0, "min", "expected a non-negative number")?;
        check(max.is_finite() && max > min, "max", "expected a number greater than min")?;
        Ok(Self {
            shape: Shape::Uniform(Uniform::new(min, max).expect("min < max")),
            mean: (min + max) / 2.0,
        })
    }

    /// Log-normal with a positive mean and coefficient of variation.
    pub fn new_lognormal(mean: f64, cv: f64) -> Result<Self, DistError> {
        check(mean.is_finite() && mean > 0.0, "mean", "expected a positive number")?;
        check(cv.is_finite() && cv > 0.0, "cv", "expected a positive coefficient of variation")?;
        let sigma2 = (1.0 + cv * cv).ln();
        let mu = mean.ln() - sigma2 / 2.0;
        Ok(Self {
            shape: Shape::LogNormal(LogNormal::new(mu, sigma2.sqrt()).expect("sigma is positive")),
            mean,
        })
    }

    /// Gamma with a positive mean and coefficient of variation (shape `1/cv²`).
    pub fn new_gamma(mean: f64, cv: f64) -> Result<Self, DistError> {
        check(mean.is_finite() && mean > 0.0, "mean", "expected a positive number")?;
        check(cv.is_finite() && cv > 0.0, "cv", "expected a positive coefficient of variation")?;
        let shape = 1.0 / (cv * cv);
        let scale = mean * cv * cv;
        Ok(Self {
            shape: Shape::Gamma(Gamma::new(shape, scale).expect("shape and scale are positive")),
            mean,
        })
    }

    /// Weibull with positive shape and scale.
    pub fn new_weibull(shape: f64, scale: f64) -> Result<Self, DistError> {
        check(shape.is_finite() && shape > 0.0, "shape", "expected a positive number")?;
        check(scale.is_finite() && scale > 0.0, "scale", "expected a positive number")?;
        Ok(Self {
            shape: Shape::Weibull(Weibull::new(scale, shape).expect("parameters are positive")),
            mean: scale * gamma_function(1.0 + 1.0 / shape),
        })
    }

    /// Geometric on {1, 2, ...} with the given mean (>= 1).
    pub fn new_geometric(mean: f64) -> Result<Self, DistError> {
        check(mean.is_finite() && mean >= 1.0, "mean", "expected a number >= 1")?;
        let p = 1.0 / mean;
        let ln_one_minus_p = if p >= 1.0 { 0.0 } else { (1.0 - p).ln() };
        Ok(Self { shape: Shape::Geometric { ln_one_minus_p }, mean })
    }

    /// A finite set of non-negative values with non-negative weights summing above zero.
    pub fn new_empirical(values: Vec<f64>, weights: Vec<f64>) -> Result<Self, DistError> {
        check(!values.is_empty(), "values", "expected at least one value")?;
        check(values.iter().all(|v| v.is_finite() && *v >= 0.0), "values", "expected non-negative numbers")?;
        check(weights.len() == values.len(), "weights", "expected as many weights as values")?;
        let cumulative = cumulative(&weights)?;
        let mean = weighted_mean(values.iter().copied(), &cumulative);
        Ok(Self { shape: Shape::Empirical(Empirical { values, cumulative }), mean })
    }

    /// A mixture of weighted parts.
    pub fn new_mixture(parts: Vec<(f64, Distribution)>) -> Result<Self, DistError> {
        check(!parts.is_empty(), "parts", "expected at least one part")?;
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
