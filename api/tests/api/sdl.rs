//! The schema as SDL must match the checked-in `api/schema.graphql`, so every schema change shows
//! up in review. Regenerate with `UPDATE_GOLDEN=1 cargo test -p taoscope-api`.

use std::path::Path;

#[test]
fn schema_matches_the_golden_sdl() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
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
