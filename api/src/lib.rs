//! taoscope-api
