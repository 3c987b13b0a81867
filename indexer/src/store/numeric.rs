//! PostgreSQL `numeric` values for binary `COPY`, from exact decimal strings
//! ([`taoscope_math::decimal`]): prices and fixed-point values are computed in Rust and sent as
//! they are, with no rounding on the way.

use std::error::Error;

use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

/// A decimal (`-12.5`, `0.0001`, `340282366920938463463374607431768211455`) sent as `numeric`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Numeric(pub String);

/// A string that is not a plain decimal.
#[derive(Debug, thiserror::Error)]
#[error("not a decimal number: {0:?}")]
pub struct NotADecimal(String);

impl Numeric {
    /// The wire form (`numeric_send`): digit count, weight of the first base-10000 digit, sign,
    /// display scale, then the digits.
    fn encode(&self, out: &mut bytes::BytesMut) -> Result<(), NotADecimal> {
        let bad = || NotADecimal(self.0.clone());
        let (negative, body) = match self.0.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, self.0.as_str()),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let dscale = u16::try_from(frac.len()).map_err(|_| bad())?;
        // Align both parts to groups of four digits around the point.
        let int_pad = (4 - int.len() % 4) % 4;
        let frac_pad = (4 - frac.len() % 4) % 4;
        let digits: Vec<u8> = std::iter::repeat_n(b'0', int_pad)
            .chain(int.bytes())
            .chain(frac.bytes())
            .chain(std::iter::repeat_n(b'0', frac_pad))
            .map(|b| b - b'0')
            .collect();
        let mut groups: Vec<i16> =
            digits.chunks(4).map(|c| c.iter().fold(0i16, |acc, d| acc * 10 + i16::from(*d))).collect();
        let mut weight = i16::try_from((int_pad + int.len()) / 4).map_err(|_| bad())? - 1;
        let leading = groups.iter().take_while(|g| **g == 0).count();
        groups.drain(..leading);
        weight -= i16::try_from(leading).map_err(|_| bad())?;
        while groups.last() == Some(&0) {
            groups.pop();
        }
        if groups.is_empty() {
            weight = 0;
        }
        let sign: u16 = if negative && !groups.is_empty() { 0x4000 } else { 0 };
        use bytes::BufMut;
        out.put_i16(i16::try_from(groups.len()).map_err(|_| bad())?);
        out.put_i16(weight);
        out.put_u16(sign);
        out.put_u16(dscale);
        for g in groups {
            out.put_i16(g);
        }
        Ok(())
    }
}

impl ToSql for Numeric {
    fn to_sql(&self, _ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        self.encode(out)?;
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use taoscope_schema::testing::TestDb;

    #[tokio::test]
    async fn postgres_reads_back_the_same_decimal() {
        let db = TestDb::empty().await;
        let client = db.client().await;
        for (sent, text) in [
            ("0", "0"),
            ("1", "1"),
            ("-1", "-1"),
            ("12.5", "12.5"),
            ("0.0001", "0.0001"),
            ("0.00012", "0.00012"),
            ("10000", "10000"),
            ("123456789.000000001", "123456789.000000001"),
            ("-0.000002999790012836456298828125", "-0.000002999790012836456298828125"),
            ("340282366920938463463374607431768211455", "340282366920938463463374607431768211455"),
            ("0.666666666666666666666667", "0.666666666666666666666667"),
            ("5.00", "5.00"),
            ("-0", "0"),
        ] {
            let row = client.query_one("SELECT $1::numeric::text", &[&Numeric(sent.into())]).await.unwrap();
            assert_eq!(row.get::<_, String>(0), text, "{sent}");
        }
        for bad in ["", "-", "1e5", "1.2.3", "abc", ".5", "0x10"] {
            let err = client.query_one("SELECT $1::numeric", &[&Numeric(bad.into())]).await.unwrap_err();
            let cause = std::error::Error::source(&err).map(ToString::to_string).unwrap_or_default();
            assert_eq!(cause, format!("not a decimal number: {bad:?}"));
        }
    }
}
