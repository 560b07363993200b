//! proxy-wasm glue (wasm32 only): filled in by the filter issue.
