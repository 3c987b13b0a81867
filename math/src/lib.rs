//! taoscope-math
