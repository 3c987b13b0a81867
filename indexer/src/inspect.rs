//! Operator tools over a metadata blob: a summary of pallets, storage items and events, and
//! decoding of one storage key and value (`taoscope metadata inspect|decode`).
