//! Square sparse matrices (rows of `(column, value)`) and the operations the epoch applies to
//! weights and bonds, mirroring the `*_sparse` helpers of the chain's `epoch/math.rs`.
//!
//! Row `i` is a validator, column `j` a neuron. Entries keep the order they were stored in;
//! columns outside `0..n` are dropped on construction so every later index is in bounds.

use super::scalar::Scalar;

/// An `n × n` sparse matrix.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SparseMatrix<S> {
    n: usize,
    rows: Vec<Vec<(u16, S)>>,
}

impl<S: Scalar> SparseMatrix<S> {
    /// Reads stored u16 rows as raw integers (`I32F32::from_num(u16)`), keeping columns `< n`.
    /// Missing rows are empty; rows beyond `n` are ignored.
    pub(crate) fn from_u16_rows(rows: &[Vec<(u16, u16)>], n: usize) -> Self {
        Self::read_u16_rows(rows, n, S::from_u16)
    }

    /// Reads stored u16 rows as proportions (`v / 65535`, Yuma 3 bonds), keeping columns `< n`.
    pub(crate) fn from_u16_proportion_rows(rows: &[Vec<(u16, u16)>], n: usize) -> Self {
        Self::read_u16_rows(rows, n, S::proportion_u16)
    }

    fn read_u16_rows(rows: &[Vec<(u16, u16)>], n: usize, value: fn(u16) -> S) -> Self {
        let rows = (0..n)
            .map(|i| {
                rows.get(i)
                    .map(|row| {
                        row.iter().filter(|(j, _)| usize::from(*j) < n).map(|&(j, v)| (j, value(v))).collect()
                    })
                    .unwrap_or_default()
            })
            .collect();
        Self { n, rows }
    }

    /// The rows.
    pub(crate) fn rows(&self) -> &[Vec<(u16, S)>] {
        &self.rows
    }

    fn with_rows(&self, rows: Vec<Vec<(u16, S)>>) -> Self {
        Self { n: self.n, rows }
    }

    /// Keeps only the entries for which `keep(i, j, value)` holds.
    fn filtered(&self, keep: impl Fn(usize, usize, S) -> bool) -> Self {
        let rows = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| row.iter().copied().filter(|&(j, v)| keep(i, usize::from(j), v)).collect())
            .collect();
        self.with_rows(rows)
    }

    /// Empties the rows where `mask` is true (`mask_rows_sparse`).
    pub(crate) fn mask_rows(&self, mask: &[bool]) -> Self {
        self.filtered(|i, _, _| !mask.get(i).copied().unwrap_or(false))
    }

    /// Drops the diagonal, except in row `keep` if given (`mask_diag_sparse[_except_index]`).
    pub(crate) fn mask_diag(&self, keep: Option<usize>) -> Self {
        self.filtered(|i, j, _| i != j || Some(i) == keep)
    }

    /// Drops `(i, j)` where `outdated(row_key[i], col_key[j])` (`vec_mask_sparse_matrix`).
    pub(crate) fn mask_pairs(
        &self,
        row_key: &[u64],
        col_key: &[u64],
        outdated: impl Fn(u64, u64) -> bool,
    ) -> Self {
        self.filtered(|i, j, _| {
            !outdated(row_key.get(i).copied().unwrap_or(0), col_key.get(j).copied().unwrap_or(0))
        })
    }

    /// Normalises each row to sum 1 (rows summing to ≤ 0 stay as they are).
    pub(crate) fn row_normalize(&mut self) {
        for row in &mut self.rows {
            let sum = row.iter().fold(S::ZERO, |acc, &(_, v)| acc.plus(v));
            if sum > S::ZERO {
                for (_, v) in row.iter_mut() {
                    *v = v.over(sum);
                }
            }
        }
    }

    fn column_fold(&self, init: S, f: impl Fn(S, S) -> S) -> Vec<S> {
        let mut acc = vec![init; self.n];
        for row in &self.rows {
            for &(j, v) in row {
                let cell = &mut acc[usize::from(j)];
                *cell = f(*cell, v);
            }
        }
        acc
    }

    /// Divides every entry by its column's sum (columns summing to 0 stay).
    pub(crate) fn col_normalize(&mut self) {
        let sums = self.column_fold(S::ZERO, |acc, v| acc.plus(v));
        self.divide_columns(&sums);
    }

    /// Divides every entry by its column's maximum, so each column's max is 1.
    pub(crate) fn col_max_upscale(&mut self) {
        let maxima = self.column_fold(S::ZERO, |acc, v| if acc < v { v } else { acc });
        self.divide_columns(&maxima);
    }

    fn divide_columns(&mut self, divisors: &[S]) {
        for row in &mut self.rows {
            for (j, v) in row.iter_mut() {
                let d = divisors[usize::from(*j)];
                if d != S::ZERO {
                    *v = v.over(d);
                }
            }
        }
    }

    /// `result_j = Σ_i vector_i · m_ij` (`matmul_sparse`).
    pub(crate) fn matmul(&self, vector: &[S]) -> Vec<S> {
        let mut result = vec![S::ZERO; self.n];
        for (row, &x) in self.rows.iter().zip(vector) {
            for &(j, v) in row {
                let cell = &mut result[usize::from(j)];
                *cell = cell.plus(x.times(v));
            }
        }
        result
    }

    /// `result_i = Σ_j vector_j · m_ij` (`matmul_transpose_sparse`).
    pub(crate) fn matmul_transpose(&self, vector: &[S]) -> Vec<S> {
        self.rows
            .iter()
            .map(|row| {
                row.iter().fold(S::ZERO, |acc, &(j, v)| {
                    acc.plus(vector.get(usize::from(j)).copied().unwrap_or(S::ZERO).times(v))
                })
            })
            .collect()
    }

    /// Row sums.
    pub(crate) fn row_sums(&self) -> Vec<S> {
        self.rows.iter().map(|row| row.iter().fold(S::ZERO, |acc, &(_, v)| acc.plus(v))).collect()
    }

    /// Caps each entry at its column's threshold; an entry above a zero threshold is dropped
    /// (`col_clip_sparse`).
    pub(crate) fn col_clip(&self, thresholds: &[S]) -> Self {
        let rows = self
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .filter_map(|&(j, v)| {
                        let t = thresholds[usize::from(j)];
                        if t < v { (S::ZERO < t).then_some((j, t)) } else { Some((j, v)) }
                    })
                    .collect()
            })
            .collect();
        self.with_rows(rows)
    }

    /// `self + ratio · (other − self)`, keeping positive entries (`interpolate_sparse`); ratio 0 and
    /// 1 return the operands unchanged.
    pub(crate) fn interpolate(&self, other: &Self, ratio: S) -> Self {
        if ratio == S::ZERO {
            return self.clone();
        }
        if ratio == S::ONE {
            return other.clone();
        }
        let rows = self
            .rows
            .iter()
            .zip(&other.rows)
            .map(|(row1, row2)| {
                let dense1 = self.dense_row(row1);
                let dense2 = self.dense_row(row2);
                dense1
                    .iter()
                    .zip(&dense2)
                    .enumerate()
                    .filter_map(|(j, (&v1, &v2))| {
                        let value = v1.plus(ratio.times(v2.minus(v1)));
                        (S::ZERO < value).then_some((column(j), value))
                    })
                    .collect()
            })
            .collect();
        self.with_rows(rows)
    }

    /// A row as a dense vector (for a duplicated column the last entry wins, as on chain).
    pub(crate) fn dense_row(&self, row: &[(u16, S)]) -> Vec<S> {
        let mut dense = vec![S::ZERO; self.n];
        for &(j, v) in row {
            dense[usize::from(j)] = v;
        }
        dense
    }

    /// Scales row `i` by `vector_i` (`row_hadamard_sparse`).
    pub(crate) fn row_hadamard(&self, vector: &[S]) -> Self {
        let rows = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let x = vector.get(i).copied().unwrap_or(S::ZERO);
                row.iter().map(|&(j, v)| (j, v.times(x))).collect()
            })
            .collect();
        self.with_rows(rows)
    }

    /// `alpha · new + (1 − alpha) · old`, keeping positive entries in column order (`mat_ema_sparse`).
    pub(crate) fn ema(new: &Self, old: &Self, alpha: S) -> Self {
        let one_minus_alpha = S::ONE.minus(alpha);
        let rows = new
            .rows
            .iter()
            .zip(&old.rows)
            .map(|(new_row, old_row)| {
                let mut dense = vec![S::ZERO; new.n];
                for &(j, v) in new_row {
                    let cell = &mut dense[usize::from(j)];
                    *cell = cell.plus(alpha.times(v));
                }
                for &(j, v) in old_row {
                    let cell = &mut dense[usize::from(j)];
                    *cell = cell.plus(one_minus_alpha.times(v));
                }
                dense
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v > S::ZERO)
                    .map(|(j, &v)| (column(j), v))
                    .collect()
            })
            .collect();
        new.with_rows(rows)
    }

    /// `(1 − α_ij)·old_ij + α_ij·new_ij` clamped to `[0, 1]`, only for the entries of `new`'s rows
    /// (`mat_ema_alpha_sparse`: a column absent from a validator's new row loses its bond).
    /// `alphas(i)` gives row `i`'s factors, one per column.
    pub(crate) fn ema_per_entry(new: &Self, old: &Self, alphas: impl Fn(usize) -> Vec<S>) -> Self {
        let rows = new
            .rows
            .iter()
            .zip(&old.rows)
            .enumerate()
            .map(|(i, (new_row, old_row))| {
                if new_row.is_empty() {
                    return Vec::new();
                }
                let alpha = alphas(i);
                let mut decayed = vec![S::ZERO; new.n];
                for &(j, v) in old_row {
                    decayed[usize::from(j)] = S::ONE.minus(alpha[usize::from(j)]).times(v);
                }
                new_row
                    .iter()
                    .filter_map(|&(j, v)| {
                        let a = alpha[usize::from(j)];
                        let increment = a.times(v);
                        let increment = if increment > S::ZERO { increment } else { S::ZERO };
                        let sum = decayed[usize::from(j)].plus(increment);
                        let value = if sum < S::ONE { sum } else { S::ONE };
                        (value > S::ZERO).then_some((j, value))
                    })
                    .collect()
            })
            .collect();
        new.with_rows(rows)
    }

    /// Column `j` of every row as a dense vector per column, zero where a row has no entry.
    pub(crate) fn columns_dense(&self, rows: &[usize]) -> Vec<Vec<S>> {
        let mut columns = vec![vec![S::ZERO; rows.len()]; self.n];
        for (k, &i) in rows.iter().enumerate() {
            for &(j, v) in &self.rows[i] {
                columns[usize::from(j)][k] = v;
            }
        }
        columns
    }
}

/// Column index as stored (`n` never exceeds the u16 uid space for stored columns).
fn column(j: usize) -> u16 {
    u16::try_from(j).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: &[&[(u16, u16)]], n: usize) -> SparseMatrix<f64> {
        let rows: Vec<Vec<(u16, u16)>> = rows.iter().map(|r| r.to_vec()).collect();
        SparseMatrix::from_u16_rows(&rows, n)
    }

    #[test]
    fn construction_drops_out_of_range_columns() {
        let m = matrix(&[&[(0, 1), (5, 2)], &[(1, 3)], &[(0, 9)]], 2);
        assert_eq!(m.rows(), &[vec![(0, 1.0)], vec![(1, 3.0)]]);
        let m = matrix(&[], 2);
        assert_eq!(m.rows(), &[vec![], vec![]]);
    }

    #[test]
    fn masks() {
        let m = matrix(&[&[(0, 1), (1, 2)], &[(0, 3), (1, 4)]], 2);
        assert_eq!(m.mask_rows(&[true, false]).rows(), &[vec![], vec![(0, 3.0), (1, 4.0)]]);
        assert_eq!(m.mask_diag(None).rows(), &[vec![(1, 2.0)], vec![(0, 3.0)]]);
        assert_eq!(m.mask_diag(Some(1)).rows(), &[vec![(1, 2.0)], vec![(0, 3.0), (1, 4.0)]]);
        // Drop (i, j) where last_update[i] <= registered[j].
        let pruned = m.mask_pairs(&[5, 1], &[3, 2], |u, r| u <= r);
        assert_eq!(pruned.rows(), &[vec![(0, 1.0), (1, 2.0)], vec![]]);
    }

    #[test]
    fn normalisation_and_products() {
        let mut m = matrix(&[&[(0, 1), (1, 3)], &[(1, 1)]], 2);
        m.row_normalize();
        assert_eq!(m.rows(), &[vec![(0, 0.25), (1, 0.75)], vec![(1, 1.0)]]);
        assert_eq!(m.matmul(&[1.0, 2.0]), vec![0.25, 2.75]);
        assert_eq!(m.matmul_transpose(&[4.0, 1.0]), vec![1.75, 1.0]);
        assert_eq!(m.row_sums(), vec![1.0, 1.0]);
        let mut c = m.clone();
        c.col_normalize();
        assert_eq!(c.rows(), &[vec![(0, 1.0), (1, 0.75 / 1.75)], vec![(1, 1.0 / 1.75)]]);
        let mut u = m.clone();
        u.col_max_upscale();
        assert_eq!(u.rows(), &[vec![(0, 1.0), (1, 0.75)], vec![(1, 1.0)]]);
    }

    #[test]
    fn clip_interpolate_ema() {
        let m = matrix(&[&[(0, 4), (1, 2)], &[(1, 8)]], 2);
        let clipped = m.col_clip(&[0.0, 5.0]);
        assert_eq!(clipped.rows(), &[vec![(1, 2.0)], vec![(1, 5.0)]]);
        let half = m.interpolate(&clipped, 0.5);
        assert_eq!(half.rows(), &[vec![(0, 2.0), (1, 2.0)], vec![(1, 6.5)]]);
        assert_eq!(m.interpolate(&clipped, 1.0), clipped);
        assert_eq!(m.interpolate(&clipped, 0.0), m);
        let ema = SparseMatrix::ema(&m, &clipped, 0.25);
        assert_eq!(ema.rows(), &[vec![(0, 1.0), (1, 2.0)], vec![(1, 5.75)]]);
        assert_eq!(m.row_hadamard(&[0.5, 0.0]).rows(), &[vec![(0, 2.0), (1, 1.0)], vec![(1, 0.0)]]);
        assert_eq!(m.columns_dense(&[1]), vec![vec![0.0], vec![8.0]]);
    }
}
