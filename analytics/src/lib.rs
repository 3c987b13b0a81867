//! Analytics over indexed history (DESIGN.md §Data flow 4), computed with Polars from
//! PostgreSQL and written back to analytics tables (schema 0004):
//!
//! - [`prices`]: OHLCV candles (5m/1h/4h/1d) with TWAP, market cap, liquidity, moving price;
//! - [`emissions`]: per block and per day, recorded values and the alpha-out split, by era;
//! - [`flows`]: net TAO flow per subnet per day and its EMA with the chain's smoothing;
//! - [`rankings`]: miners and validators per epoch (and, in SQL, roll-ups by coldkey);
//! - [`audit`]: every indexed epoch replayed and compared with the chain's numbers;
//! - [`yuma_replay`]: Yuma over epochs given as JSON (`taoscope yuma`);
//! - [`job`]: the incremental run (`taoscope analytics`); [`bench`]: `taoscope bench analytics`.

pub mod audit;
pub mod bench;
pub mod emissions;
mod error;
pub mod flows;
pub mod frame;
pub mod job;
pub mod load;
pub mod prices;
pub mod rankings;
pub mod yuma_replay;

pub use error::AnalyticsError;
pub use job::{AnalyticsOptions, RunReport, follow, run};
