//! Decimal renderings of the chain's numbers, for storage as PostgreSQL `numeric`: fixed-point
//! values exactly (a binary fraction always terminates in decimal), ratios rounded half-up to a
//! number of significant digits, and each era's pool price (CHAIN.md §3.1) from its raw inputs.
//!
//! Strings are plain decimals: an optional `-`, digits, and a fractional part without trailing
//! zeros (`"0"`, `"12.5"`, `"-0.000123"`).

use crate::wide::U256;

/// Significant digits of a stored price.
pub const PRICE_DIGITS: usize = 24;

/// Exact decimal of the signed fixed-point value `bits / 2^frac` (`frac` at most 124).
pub fn fixed(bits: i128, frac: u32) -> String {
    fixed_parts(bits < 0, bits.unsigned_abs(), frac)
}

/// Exact decimal of the unsigned fixed-point value `bits / 2^frac` (`frac` at most 124).
pub fn fixed_unsigned(bits: u128, frac: u32) -> String {
    fixed_parts(false, bits, frac)
}

fn fixed_parts(negative: bool, magnitude: u128, frac: u32) -> String {
    let frac = frac.min(124);
    let mut out = String::with_capacity(48);
    if negative {
        out.push('-');
    }
    out.push_str(&(magnitude >> frac).to_string());
    let mask = if frac == 0 { 0 } else { (1u128 << frac) - 1 };
    let mut rem = magnitude & mask;
    if rem != 0 {
        out.push('.');
        // `rem < 2^124`, so `rem * 10` fits; a dyadic fraction ends within `frac` digits.
        while rem != 0 {
            rem *= 10;
            out.push(char::from(b'0' + (rem >> frac) as u8));
            rem &= mask;
        }
    }
    out
}

/// Exact decimal of `v / 10^decimals` (a Perquintill is `scaled(q, 18)`).
pub fn scaled(v: u128, decimals: u32) -> String {
    let digits = v.to_string();
    let decimals = decimals as usize;
    let (int, frac) = if digits.len() > decimals {
        digits.split_at(digits.len() - decimals)
    } else {
        ("0", digits.as_str())
    };
    let frac = format!("{frac:0>decimals$}");
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") }
}

/// `num / den` rounded half-up to `significant` digits (the integer part is never rounded);
/// `"0"` when `den` is 0.
fn ratio(num: U256, den: U256, significant: usize) -> String {
    if den.is_zero() {
        return "0".into();
    }
    // Fast path: `rem * 10` fits a u128 whenever `den < 2^124`.
    if let (Some(n), Some(d)) = (num.to_u128(), den.to_u128())
        && d < 1 << 124
    {
        let mut rem = n % d;
        return round_digits(U256::from_u128(n / d), significant, || {
            (rem != 0).then(|| {
                let x = rem * 10;
                rem = x % d;
                (x / d) as u8
            })
        });
    }
    let (int, mut rem) = num.div_rem(den);
    round_digits(int, significant, || {
        (!rem.is_zero()).then(|| {
            // `rem < den`, so `rem * 10 < 10 den`: at most nine subtractions find the digit.
            let mut x = rem.saturating_mul_u128(10);
            let mut digit = 0u8;
            while x >= den {
                x = x.saturating_sub(den);
                digit += 1;
            }
            rem = x;
            digit
        })
    })
}

/// The decimal of `int` followed by the fractional digits `next` yields (`None` once the rest
/// is zero), rounded half-up to `significant` digits.
fn round_digits(int: U256, significant: usize, mut next: impl FnMut() -> Option<u8>) -> String {
    let mut digits: Vec<u8> = integer_digits(int);
    let mut int_len = digits.len();
    let mut counted = if int.is_zero() { 0 } else { int_len };
    // One digit past the last kept one decides the rounding.
    while counted <= significant && digits.len() - int_len < 512 {
        let Some(digit) = next() else { break };
        if counted > 0 || digit != 0 {
            counted += 1;
        }
        digits.push(digit);
    }
    if counted > significant && digits.len() > int_len {
        let guard = digits.pop().unwrap_or(0);
        if guard >= 5 {
            let before = digits.len();
            round_up(&mut digits);
            // A carry out of the first digit (`9.99` → `10.0`) lengthens the integer part.
            int_len += digits.len() - before;
        }
    }
    render(&digits, int_len)
}

/// Adds one unit in the last place, carrying; may prepend a digit.
fn round_up(digits: &mut Vec<u8>) {
    for d in digits.iter_mut().rev() {
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            return;
        }
    }
    digits.insert(0, 1);
}

/// Decimal digits of an integer, most significant first (`[0]` for zero).
fn integer_digits(mut v: U256) -> Vec<u8> {
    if let Some(small) = v.to_u128() {
        return small.to_string().bytes().map(|b| b - b'0').collect();
    }
    let chunk = U256::from_u128(10u128.pow(18));
    let mut parts = Vec::new();
    while !v.is_zero() {
        let (q, r) = v.div_rem(chunk);
        parts.push(r.to_u128().unwrap_or(0));
        v = q;
    }
    let mut out = String::new();
    for (i, p) in parts.iter().rev().enumerate() {
        if i == 0 { out.push_str(&p.to_string()) } else { out.push_str(&format!("{p:018}")) }
    }
    out.bytes().map(|b| b - b'0').collect()
}

/// Digits with the point after `int_len` of them, without trailing fractional zeros.
fn render(digits: &[u8], int_len: usize) -> String {
    let (int, frac) = digits.split_at(int_len.min(digits.len()));
    let int: String = int.iter().map(|d| char::from(b'0' + d)).collect();
    let int = int.trim_start_matches('0');
    let mut out = if int.is_empty() { "0".to_string() } else { int.to_string() };
    let frac: String = frac.iter().map(|d| char::from(b'0' + d)).collect();
    let frac = frac.trim_end_matches('0');
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Constant-product price `tao / alpha_in` (`"0"` for an empty pool).
pub fn reserves_price(tao: u64, alpha_in: u64) -> String {
    ratio(U256::from_u128(u128::from(tao)), U256::from_u128(u128::from(alpha_in)), PRICE_DIGITS)
}

/// Uniswap-v3 era price: `AlphaSqrtPrice` (U64F64 bits) squared, i.e. `bits² / 2^128`.
pub fn sqrt_price_squared(bits: u128) -> String {
    let (int, mut frac) = U256::mul_u128(bits, bits).parts();
    round_digits(U256::from_u128(int), PRICE_DIGITS, || {
        // Dividing by 2^128: the digit is the high half of `frac * 10`.
        (frac != 0).then(|| {
            let (digit, rest) = U256::mul_u128(frac, 10).parts();
            frac = rest;
            digit as u8
        })
    })
}

/// Balancer era price: `(1 − q) / q × tao / alpha_in` with the quote weight `q` as a
/// Perquintill (`quote / 1e18`); `"0"` when `q` or `alpha_in` is 0.
pub fn balancer_price(quote: u64, tao: u64, alpha_in: u64) -> String {
    const ONE: u128 = 1_000_000_000_000_000_000;
    let base = ONE.saturating_sub(u128::from(quote));
    let num = U256::mul_u128(base, u128::from(tao));
    let den = U256::mul_u128(u128::from(quote), u128::from(alpha_in));
    ratio(num, den, PRICE_DIGITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_is_exact() {
        assert_eq!(fixed(3 << 31, 32), "1.5");
        assert_eq!(fixed(-(1 << 30), 32), "-0.25");
        assert_eq!(fixed(1, 32), "0.00000000023283064365386962890625");
        assert_eq!(fixed(7 << 32, 32), "7");
        assert_eq!(fixed(0, 64), "0");
        assert_eq!(fixed(12_884, 32), "0.000002999790012836456298828125");
        assert_eq!(fixed_unsigned(1u128 << 63, 64), "0.5");
        assert_eq!(
            fixed_unsigned(u128::MAX, 64),
            "18446744073709551615.9999999999999999999457898913757247782996273599565029144287109375"
        );
    }

    #[test]
    fn scaled_integers() {
        assert_eq!(scaled(500_000_000_000_000_000, 18), "0.5");
        assert_eq!(scaled(1_000_000_000_000_000_000, 18), "1");
        assert_eq!(scaled(1, 18), "0.000000000000000001");
        assert_eq!(scaled(0, 18), "0");
        assert_eq!(scaled(1234, 0), "1234");
        assert_eq!(scaled(123_456, 2), "1234.56");
    }

    #[test]
    fn reserves_round_half_up_to_the_significant_digits() {
        assert_eq!(reserves_price(1, 3), "0.333333333333333333333333");
        assert_eq!(reserves_price(2, 3), "0.666666666666666666666667");
        assert_eq!(reserves_price(1, 8), "0.125");
        assert_eq!(reserves_price(10, 2), "5");
        assert_eq!(reserves_price(5, 0), "0");
        assert_eq!(reserves_price(0, 7), "0");
        assert_eq!(reserves_price(1, 1_000_000_000), "0.000000001");
        // Rounding carries through nines into the integer part.
        assert_eq!(ratio(U256::from_u128(10u128.pow(25) - 1), U256::from_u128(10u128.pow(24)), 3), "10");
        assert_eq!(ratio(U256::from_u128(1999), U256::from_u128(1000), 3), "2");
    }

    #[test]
    fn the_wide_path_agrees_with_the_narrow_one() {
        // Scaling both terms past 2^124 takes the 256-bit path; the quotient is the same.
        let mut x: u128 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let (num, den) = (u128::from(x as u64), u128::from((x >> 64) as u64 | 1));
            let narrow = ratio(U256::from_u128(num), U256::from_u128(den), PRICE_DIGITS);
            let wide = ratio(U256::mul_u128(num, 1 << 70), U256::mul_u128(den, 1 << 70), PRICE_DIGITS);
            assert_eq!(narrow, wide, "{num}/{den}");
        }
    }

    #[test]
    fn sqrt_price_squares_the_u64f64() {
        assert_eq!(sqrt_price_squared(1 << 64), "1");
        assert_eq!(sqrt_price_squared(3 << 63), "2.25");
        assert_eq!(sqrt_price_squared(1 << 63), "0.25");
        // A real finney value (spec 315, subnet 1): matches the f64 square to f64 precision.
        let bits: u128 = 2013446016718618574;
        let exact: f64 = sqrt_price_squared(bits).parse().unwrap();
        let approx = (bits as f64 / 2f64.powi(64)).powi(2);
        assert!((exact / approx - 1.0).abs() < 1e-15, "{exact} vs {approx}");
    }

    #[test]
    fn balancer_price_weights_the_reserves() {
        // q = 0.5: the weights cancel, the price is the reserve ratio.
        assert_eq!(balancer_price(500_000_000_000_000_000, 3, 2), "1.5");
        // q = 0.25: (0.75 / 0.25) × 1 = 3.
        assert_eq!(balancer_price(250_000_000_000_000_000, 1, 1), "3");
        assert_eq!(balancer_price(0, 1, 1), "0");
        assert_eq!(balancer_price(500_000_000_000_000_000, 1, 0), "0");
    }
}
