//! Mean and 95% confidence half-width over replications (Student t).

use serde::Serialize;

/// One metric over replications.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MetricSummary {
    /// Mean over the replications where the metric is defined; `None` if it never is.
    pub mean: Option<f64>,
    /// Half-width of the 95% confidence interval; `None` with fewer than 2 defined values.
    pub ci95: Option<f64>,
    /// Number of replications where the metric is defined.
    #[serde(skip)]
    pub n: usize,
}

/// Two-sided 97.5% quantiles of Student's t for 1..=30 degrees of freedom.
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
    2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/// Student's t 97.5% quantile with `df` degrees of freedom (df >= 1).
pub fn t_quantile_975(df: usize) -> f64 {
    match df {
        0 => f64::NAN,
        1..=30 => T_975[df - 1],
        // Beyond 30: the Cornish-Fisher expansion around the normal quantile, error < 1e-4.
        _ => {
            let z = 1.959_963_984_540_054_f64;
            let d = df as f64;
            z + (z.powi(3) + z) / (4.0 * d) + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

/// Summarises the defined values among `values`.
pub fn summarize(values: impl IntoIterator<Item = Option<f64>>) -> MetricSummary {
    let defined: Vec<f64> = values.into_iter().flatten().filter(|v| v.is_finite()).collect();
    let n = defined.len();
    if n == 0 {
        return MetricSummary { mean: None, ci95: None, n };
    }
    let mean = defined.iter().sum::<f64>() / n as f64;
    let ci95 = (n >= 2).then(|| {
        let variance = defined.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        t_quantile_975(n - 1) * (variance / n as f64).sqrt()
    });
    MetricSummary { mean: Some(mean), ci95, n }
}

/// Each replication's values of a breakdown's rows (row × column), kept flat: 8 bytes per
/// value and replication, with nothing per row (a breakdown by minute over a week has 10,080
/// rows, each with a value per metric).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowValues {
    rows: usize,
    columns: usize,
    /// Replication after replication, row after row: NaN where undefined.
    values: Vec<f64>,
}

impl RowValues {
    /// Appends one replication's rows. The first one sets the shape; a later row of another
    /// width is cut or padded with undefined values.
    pub fn push(&mut self, rows: &[Vec<Option<f64>>]) {
        if self.values.is_empty() && self.rows == 0 {
            self.rows = rows.len();
            self.columns = rows.first().map_or(0, Vec::len);
        }
        for r in 0..self.rows {
            let row = rows.get(r).map_or(&[][..], Vec::as_slice);
            let cell = |c: usize| row.get(c).copied().flatten().unwrap_or(f64::NAN);
            self.values.extend((0..self.columns).map(cell));
        }
    }

    /// Rows per replication.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The mean and CI of each column of each row over the replications pushed (the
    /// summaries skip undefined values).
    pub fn summaries(&self) -> Vec<Vec<MetricSummary>> {
        (0..self.rows).map(|r| (0..self.columns).map(|c| self.summary(r, c)).collect()).collect()
    }

    /// The summary of row `row`, column `column` (undefined outside the shape).
    pub fn summary(&self, row: usize, column: usize) -> MetricSummary {
        if row >= self.rows || column >= self.columns {
            return summarize([]);
        }
        let cells = self.rows * self.columns;
        let at = row * self.columns + column;
        summarize(self.values.iter().skip(at).step_by(cells).map(|v| Some(*v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_ci_of_known_values() {
        let s = summarize([Some(1.0), Some(2.0), Some(3.0), None]);
        assert_eq!(s.mean, Some(2.0));
        assert_eq!(s.n, 3);
        // sd = 1, se = 1/sqrt(3), t(2) = 4.303
        assert!((s.ci95.unwrap() - 4.303 / 3f64.sqrt()).abs() < 1e-9);
        assert_eq!(summarize([Some(5.0)]).ci95, None);
        assert_eq!(summarize([None]).mean, None);
    }

    #[test]
    fn row_values_summarise_each_cell_over_replications() {
        let mut values = RowValues::default();
        values.push(&[vec![Some(1.0), None], vec![Some(10.0), Some(5.0)]]);
        values.push(&[vec![Some(3.0), Some(2.0)], vec![Some(20.0)]]);
        assert_eq!(values.rows(), 2);
        let s = values.summaries();
        assert_eq!((s[0][0].mean, s[0][0].n), (Some(2.0), 2));
        assert_eq!((s[0][1].mean, s[0][1].n), (Some(2.0), 1));
        assert_eq!((s[1][0].mean, s[1][1].mean, s[1][1].n), (Some(15.0), Some(5.0), 1));
        assert_eq!(s[1][0], summarize([Some(10.0), Some(20.0)]));
    }

    #[test]
    fn t_quantile_approaches_normal() {
        assert!((t_quantile_975(40) - 2.021).abs() < 1e-3);
        assert!((t_quantile_975(120) - 1.980).abs() < 1e-3);
    }
}
