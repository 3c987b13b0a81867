//! The schema as SDL must match the checked-in `api/schema.graphql`, so every schema change shows
//! up in review. Regenerate with `UPDATE_GOLDEN=1 cargo test -p taoscope-api`.

use std::path::Path;

#[test]
fn schema_matches_the_golden_sdl() {
    // The runtime value: cargo sets it for the package under test, while the compile-time one
    // may name another checkout that shares the build cache (CI clones into fresh directories).
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    let path = Path::new(&dir).join("schema.graphql");
    let sdl = taoscope_api::sdl();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &sdl).expect("write golden SDL");
        return;
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        golden == sdl,
        "api/schema.graphql is out of date; run `UPDATE_GOLDEN=1 cargo test -p taoscope-api` and \
         review the diff.\n--- generated SDL ---\n{sdl}"
    );
}
