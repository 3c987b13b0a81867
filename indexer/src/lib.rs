//! taoscope-indexer
