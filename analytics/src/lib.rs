//! taoscope-analytics
