//! Consensus: the stake-weighted median of each column at κ (`weighted_median_col_sparse` and
//! `weighted_median` in the chain's `epoch/math.rs`).
//!
//! Only validators with positive (active) stake vote; their stake is re-normalised and a
//! validator without an entry in a column votes 0 for it. For each column the result is the
//! score at which the stake above it is at least κ: a deterministic quickselect that pivots on the
//! middle element of the current partition, excluding elements equal to the pivot from both sides.

use super::scalar::Scalar;
use super::sparse::SparseMatrix;
use super::vector;

/// Per-column stake-weighted median of `scores` at majority `kappa` (a fraction, e.g. 0.5).
pub(crate) fn weighted_median_columns<S: Scalar>(stake: &[S], scores: &SparseMatrix<S>, kappa: S) -> Vec<S> {
    let voters: Vec<usize> = (0..stake.len()).filter(|&i| stake[i] > S::ZERO).collect();
    let mut voter_stake: Vec<S> = voters.iter().map(|&i| stake[i]).collect();
    vector::normalize(&mut voter_stake);
    let stake_sum = vector::sum(&voter_stake);
    let minority = stake_sum.minus(kappa);
    let all: Vec<usize> = (0..voters.len()).collect();
    scores
        .columns_dense(&voters)
        .iter()
        .map(|column| weighted_median(&voter_stake, column, &all, minority, S::ZERO, stake_sum))
        .collect()
}

/// The score in `partition` at which the stake below it first exceeds `minority`, searching the
/// stake interval `[lo, hi]`.
fn weighted_median<S: Scalar>(
    stake: &[S],
    score: &[S],
    partition: &[usize],
    minority: S,
    mut lo: S,
    mut hi: S,
) -> S {
    let mut current: Vec<usize> = partition.to_vec();
    loop {
        match current.len() {
            0 => return S::ZERO,
            1 => return score[current[0]],
            _ => {}
        }
        let pivot = score[current[current.len() / 2]];
        let (mut lower, mut upper) = (Vec::new(), Vec::new());
        let (mut lo_stake, mut hi_stake) = (S::ZERO, S::ZERO);
        for &idx in &current {
            if score[idx] < pivot {
                lo_stake = lo_stake.plus(stake[idx]);
                lower.push(idx);
            } else if score[idx] > pivot {
                hi_stake = hi_stake.plus(stake[idx]);
                upper.push(idx);
            }
        }
        // Each branch strictly shrinks the partition (pivot elements are excluded), so this ends.
        if minority < lo.plus(lo_stake) && !lower.is_empty() {
            hi = lo.plus(lo_stake);
            current = lower;
        } else if hi.minus(hi_stake) <= minority && !upper.is_empty() {
            lo = hi.minus(hi_stake);
            current = upper;
        } else {
            return pivot;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(rows: &[&[(u16, u16)]], n: usize) -> SparseMatrix<f64> {
        let rows: Vec<Vec<(u16, u16)>> = rows.iter().map(|r| r.to_vec()).collect();
        SparseMatrix::from_u16_rows(&rows, n)
    }

    fn median(stake: &[f64], score: &[f64], kappa: f64) -> f64 {
        let all: Vec<usize> = (0..score.len()).collect();
        let total: f64 = stake.iter().sum();
        weighted_median(stake, score, &all, total - kappa, 0.0, total)
    }

    #[test]
    fn equal_stake_median() {
        let stake = [0.2; 5];
        assert_eq!(median(&stake, &[1.0, 2.0, 3.0, 4.0, 5.0], 0.5), 3.0);
        assert_eq!(median(&stake, &[5.0, 1.0, 4.0, 2.0, 3.0], 0.5), 3.0);
        // κ = 0.75 needs 75 % of stake at or above the answer.
        assert_eq!(median(&stake, &[1.0, 2.0, 3.0, 4.0, 5.0], 0.75), 2.0);
    }

    #[test]
    fn stake_weighting() {
        // One validator holding 60 % decides the median.
        assert_eq!(median(&[0.6, 0.2, 0.2], &[10.0, 1.0, 2.0], 0.5), 10.0);
        assert_eq!(median(&[0.4, 0.3, 0.3], &[10.0, 1.0, 2.0], 0.5), 2.0);
        assert_eq!(median(&[], &[], 0.5), 0.0);
        assert_eq!(median(&[1.0], &[7.0], 0.5), 7.0);
    }

    /// Oracle: subtensor `tests/epoch.rs::test_bonds`, epoch 5 (current_block 5): validators 2 and 3
    /// (stake 0.3/0.4 of the active 0.7) weight column 7 with 1.0 and 0.4000085, validators 0 and 1
    /// only themselves (masked) ⇒ C_7 = 0.400008545 and C_4..6 = 0.
    #[test]
    fn consensus_trace_from_test_bonds() {
        let mut w =
            scores(&[&[], &[], &[(7, 65_535)], &[(4, 16_383), (5, 32_767), (6, 49_149), (7, 65_535)]], 8);
        w.row_normalize();
        let stake = [0.1, 0.2, 0.3, 0.4, 0.0, 0.0, 0.0, 0.0];
        let c = weighted_median_columns(&stake, &w, 32_767.0 / 65_535.0);
        assert_eq!(&c[..4], &[0.0; 4]);
        assert_eq!(&c[4..7], &[0.0; 3]);
        assert!((c[7] - 0.400_008_545).abs() < 1e-9, "{c:?}");
    }

    #[test]
    fn no_voters_gives_zero_consensus() {
        let w = scores(&[&[(1, 5)], &[(0, 5)]], 2);
        assert_eq!(weighted_median_columns(&[0.0, 0.0], &w, 0.5), vec![0.0, 0.0]);
    }
}
