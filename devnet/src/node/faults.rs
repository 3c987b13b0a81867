//! Fault-injection settings: how often the RPC server drops a connection, answers late, or
//! answers with corrupted data (`--faults drop=0.01,slow=0.05:200ms,garbage=0.01`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::DevnetError;

/// Per-request fault probabilities (all 0 by default: answers are exact and on time).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Faults {
    /// Probability that a request's connection is closed abruptly instead of answered.
    pub drop: f64,
    /// Probability that an answer is delayed by `slow_delay`.
    pub slow: f64,
    /// Delay of a slow answer.
    pub slow_delay: Duration,
    /// Probability that a data-bearing answer (storage values, `state_call` results, block
    /// extrinsics) is corrupted so that it no longer decodes; the chain itself is unaffected.
    pub garbage: f64,
}

/// The delay of `slow=p` when none is given.
pub const DEFAULT_SLOW_DELAY: Duration = Duration::from_millis(200);

impl Default for Faults {
    fn default() -> Self {
        Faults { drop: 0.0, slow: 0.0, slow_delay: DEFAULT_SLOW_DELAY, garbage: 0.0 }
    }
}

/// Why a `--faults` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultsParseError {
    /// A name other than `drop`, `slow` or `garbage`.
    #[error("unknown fault {0:?} (expected drop, slow or garbage)")]
    Unknown(String),
    /// `name` without `=value`.
    #[error("fault {0:?} has no value (expected name=probability)")]
    MissingValue(String),
    /// A probability that is not a number in 0..=1.
    #[error("fault {name}: probability must be a number from 0 to 1, got {value:?}")]
    Probability {
        /// The fault.
        name: String,
        /// What was given.
        value: String,
    },
    /// A delay that is not `<number><ms|s|us>`.
    #[error("fault slow: delay must look like 200ms, 1s or 1.5s, got {0:?}")]
    Delay(String),
    /// The same fault twice.
    #[error("fault {0} is given twice")]
    Duplicate(String),
}

fn probability(name: &str, value: &str) -> Result<f64, FaultsParseError> {
    match value.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(FaultsParseError::Probability { name: name.into(), value: value.into() }),
    }
}

fn delay(value: &str) -> Result<Duration, FaultsParseError> {
    let v = value.trim();
    let bad = || FaultsParseError::Delay(value.into());
    let (number, scale) = if let Some(n) = v.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = v.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1.0)
    } else {
        return Err(bad());
    };
    match number.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 && x * scale < 3600.0 => Ok(Duration::from_secs_f64(x * scale)),
        _ => Err(bad()),
    }
}

impl FromStr for Faults {
    type Err = FaultsParseError;

    /// Parses `drop=0.01,slow=0.05:200ms,garbage=0.01` (any subset, any order; `none` or an
    /// empty string for no faults).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut faults = Faults::default();
        let mut seen: Vec<&str> = vec![];
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty() && *p != "none") {
            let (name, value) =
                part.split_once('=').ok_or_else(|| FaultsParseError::MissingValue(part.into()))?;
            let name = name.trim();
            if seen.contains(&name) {
                return Err(FaultsParseError::Duplicate(name.into()));
            }
            match name {
                "drop" => faults.drop = probability(name, value)?,
                "garbage" => faults.garbage = probability(name, value)?,
                "slow" => {
                    let (p, d) = value.split_once(':').map_or((value, None), |(p, d)| (p, Some(d)));
                    faults.slow = probability(name, p)?;
                    if let Some(d) = d {
                        faults.slow_delay = delay(d)?;
                    }
                }
                other => return Err(FaultsParseError::Unknown(other.into())),
            }
            seen.push(name);
        }
        Ok(faults)
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "drop={},slow={}:{}ms,garbage={}",
            self.drop,
            self.slow,
            self.slow_delay.as_millis(),
            self.garbage
        )
    }
}

impl Faults {
    /// Whether any fault can happen.
    pub fn any(&self) -> bool {
        self.drop > 0.0 || self.slow > 0.0 || self.garbage > 0.0
    }

    /// Checks the probabilities (struct literals bypass the parser).
    pub fn validate(&self) -> Result<(), DevnetError> {
        for (name, p) in [("drop", self.drop), ("slow", self.slow), ("garbage", self.garbage)] {
            if !(0.0..=1.0).contains(&p) {
                return Err(DevnetError::InvalidConfig(format!(
                    "fault {name}: probability must be from 0 to 1, got {p}"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_form_parses() {
        let f: Faults = "drop=0.01,slow=0.05:200ms,garbage=0.01".parse().unwrap();
        assert_eq!(
            f,
            Faults { drop: 0.01, slow: 0.05, slow_delay: Duration::from_millis(200), garbage: 0.01 }
        );
        let f: Faults = " garbage=1 , slow=0.5:1.5s ".parse().unwrap();
        assert_eq!((f.garbage, f.slow, f.slow_delay, f.drop), (1.0, 0.5, Duration::from_millis(1500), 0.0));
        assert_eq!("slow=0.2".parse::<Faults>().unwrap().slow_delay, DEFAULT_SLOW_DELAY);
        assert!(!"".parse::<Faults>().unwrap().any());
        assert!(!"none".parse::<Faults>().unwrap().any());
        let round: Faults = f.to_string().parse().unwrap();
        assert_eq!(round, f);
    }

    #[test]
    fn bad_input_is_refused_with_a_clear_error() {
        let err = |s: &str| s.parse::<Faults>().unwrap_err();
        assert_eq!(err("dorp=0.1"), FaultsParseError::Unknown("dorp".into()));
        assert_eq!(err("drop"), FaultsParseError::MissingValue("drop".into()));
        assert!(matches!(err("drop=1.5"), FaultsParseError::Probability { .. }));
        assert!(matches!(err("garbage=lots"), FaultsParseError::Probability { .. }));
        assert_eq!(err("slow=0.1:fast"), FaultsParseError::Delay("fast".into()));
        assert_eq!(err("slow=0.1:200"), FaultsParseError::Delay("200".into()));
        assert_eq!(err("drop=0.1,drop=0.2"), FaultsParseError::Duplicate("drop".into()));
        assert_eq!(
            err("drop=2").to_string(),
            "fault drop: probability must be a number from 0 to 1, got \"2\""
        );
    }
}
