//! Moving data between PostgreSQL rows, Polars frames and analytics tables.

use polars::prelude::{Column, DataFrame, Series};

use crate::AnalyticsError;

/// Milliseconds in a UTC day.
pub const DAY_MS: i64 = 86_400_000;

/// Builds a frame from named columns.
pub fn frame(columns: Vec<Series>) -> Result<DataFrame, AnalyticsError> {
    Ok(DataFrame::new_infer_height(columns.into_iter().map(Column::from).collect())?)
}

/// A frame's column as `i64` values (nulls as `None`).
pub fn i64s(df: &DataFrame, name: &str) -> Result<Vec<Option<i64>>, AnalyticsError> {
    let c = df.column(name)?.cast(&polars::prelude::DataType::Int64)?;
    Ok(c.i64()?.iter().collect())
}

/// A frame's column as `f64` values (nulls as `None`).
pub fn f64s(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, AnalyticsError> {
    let c = df.column(name)?.cast(&polars::prelude::DataType::Float64)?;
    Ok(c.f64()?.iter().collect())
}

/// A frame's column as strings (nulls as `None`).
pub fn strs(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>, AnalyticsError> {
    let c = df.column(name)?;
    Ok(c.str()?.iter().map(|s| s.map(str::to_owned)).collect())
}

/// Non-null values of a column (an aggregate that cannot be null).
pub fn required<T>(values: Vec<Option<T>>, name: &str) -> Result<Vec<T>, AnalyticsError> {
    values.into_iter().map(|v| v.ok_or_else(|| AnalyticsError::Data(format!("{name} is null")))).collect()
}
