//! Dense per-uid vector helpers of the epoch (normalisation, masks, top-k permits, max-upscale),
//! mirroring the vector functions of the chain's `epoch/math.rs`.

use std::cmp::Ordering;

use super::scalar::Scalar;

/// Sum of the entries.
pub(crate) fn sum<S: Scalar>(x: &[S]) -> S {
    x.iter().fold(S::ZERO, |acc, &v| acc.plus(v))
}

/// Divides by the sum, unless the sum is 0 (`inplace_normalize`).
pub(crate) fn normalize<S: Scalar>(x: &mut [S]) {
    let total = sum(x);
    divide_by(x, total);
}

/// Divides by `total`, unless it is 0 (`inplace_normalize_using_sum`).
pub(crate) fn divide_by<S: Scalar>(x: &mut [S], total: S) {
    if total == S::ZERO {
        return;
    }
    for v in x.iter_mut() {
        *v = v.over(total);
    }
}

/// Zeroes the entries where `mask` is true (`inplace_mask_vector`).
pub(crate) fn mask<S: Scalar>(mask: &[bool], x: &mut [S]) {
    for (v, &m) in x.iter_mut().zip(mask) {
        if m {
            *v = S::ZERO;
        }
    }
}

/// `x_i / y_i`, 0 where `y_i` is 0 (`vecdiv`).
pub(crate) fn divide<S: Scalar>(x: &[S], y: &[S]) -> Vec<S> {
    x.iter().zip(y).map(|(&a, &b)| if b == S::ZERO { S::ZERO } else { a.over(b) }).collect()
}

/// Whether every entry is 0.
pub(crate) fn is_zero<S: Scalar>(x: &[S]) -> bool {
    x.iter().all(|&v| v == S::ZERO)
}

/// True for the `k` largest entries; with `n < k` every entry; ties are resolved by a stable
/// ascending sort (lower uids are dropped first). `nonzero` also excludes zero entries
/// (`is_topk` before spec 273, `is_topk_nonzero` from spec 273).
pub(crate) fn top_k<S: Scalar>(x: &[S], k: usize, nonzero: bool) -> Vec<bool> {
    let mut result: Vec<bool> = x.iter().map(|&v| !nonzero || v != S::ZERO).collect();
    let n = x.len();
    if n < k {
        return result;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| x[a].partial_cmp(&x[b]).unwrap_or(Ordering::Equal));
    for &i in order.iter().take(n - k) {
        result[i] = false;
    }
    result
}

/// Scales so the maximum becomes 65535 and rounds (`vec_max_upscale_to_u16`; pruning scores).
pub(crate) fn max_upscale_to_u16<S: Scalar>(x: &[S]) -> Vec<u16> {
    let u16_max = S::from_u16(u16::MAX);
    let Some(max) = x.iter().copied().reduce(|a, b| if b > a { b } else { a }) else {
        return Vec::new();
    };
    if max <= S::ZERO {
        // Every entry is ≤ 0, and the chain's saturating u16 conversion maps those to 0.
        return vec![0; x.len()];
    }
    if max > S::from_u16(32_768) {
        let factor = u16_max.over(max);
        return x.iter().map(|v| v.times(factor).round_to_u16()).collect();
    }
    x.iter().map(|v| v.times(u16_max).over(max).round_to_u16()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_and_mask() {
        let mut x = vec![1.0, 3.0, 0.0];
        normalize(&mut x);
        assert_eq!(x, vec![0.25, 0.75, 0.0]);
        mask(&[false, true, false], &mut x);
        assert_eq!(x, vec![0.25, 0.0, 0.0]);
        let mut zeros = vec![0.0, 0.0];
        normalize(&mut zeros);
        assert_eq!(zeros, vec![0.0, 0.0]);
        assert!(is_zero(&zeros));
        assert_eq!(divide(&[1.0, 2.0], &[4.0, 0.0]), vec![0.25, 0.0]);
    }

    #[test]
    fn top_k_rules() {
        let s = [0.4, 0.0, 0.1, 0.1, 0.4];
        assert_eq!(top_k(&s, 10, false), vec![true; 5]);
        assert_eq!(top_k(&s, 10, true), vec![true, false, true, true, true]);
        // Ties: the stable ascending sort drops uid 2 before uid 3.
        assert_eq!(top_k(&s, 3, false), vec![true, false, false, true, true]);
        assert_eq!(top_k(&s, 5, true), vec![true, false, true, true, true]);
        assert_eq!(top_k(&s, 0, false), vec![false; 5]);
        assert_eq!(top_k::<f64>(&[], 3, true), Vec::<bool>::new());
    }

    #[test]
    fn max_upscale() {
        assert_eq!(max_upscale_to_u16(&[0.1, 0.2, 0.05]), vec![32_768, 65_535, 16_384]);
        assert_eq!(max_upscale_to_u16(&[0.0, 0.0]), vec![0, 0]);
        assert_eq!(max_upscale_to_u16::<f64>(&[]), Vec::<u16>::new());
        assert_eq!(max_upscale_to_u16(&[40_000.0, 20_000.0]), vec![65_535, 32_768]);
    }
}
