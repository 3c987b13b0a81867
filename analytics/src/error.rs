//! The analytics jobs' errors.

/// Why an analytics run failed. A failed run writes nothing (each run is one transaction) and
/// leaves its progress where it was.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// The database refused or the connection dropped.
    #[error("database: {0}")]
    Db(#[from] tokio_postgres::Error),
    /// A Polars computation failed.
    #[error("polars: {0}")]
    Polars(#[from] polars::prelude::PolarsError),
    /// Indexed data that cannot be analysed as it is (named, with the block).
    #[error("indexed data: {0}")]
    Data(String),
    /// A Parquet file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
}
