//! The embedded migrations against a real PostgreSQL.

use taoscope_schema::testing::TestDb;
use taoscope_schema::{MIGRATIONS, MigrateError, migrate};

#[tokio::test]
async fn migrations_apply_once_and_are_idempotent() {
    let db = TestDb::empty().await;
    let mut client = db.client().await;
    assert_eq!(migrate(&mut client).await.unwrap(), MIGRATIONS.len());
    assert_eq!(migrate(&mut client).await.unwrap(), 0);

    let tables: Vec<String> = client
        .query("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for t in ["blocks", "chain", "chain_head", "events", "extrinsics", "indexer_progress", "runtime_versions"]
    {
        assert!(tables.contains(&t.to_string()), "{t} missing from {tables:?}");
    }
}

#[tokio::test]
async fn concurrent_runners_do_not_collide() {
    let db = TestDb::empty().await;
    let (mut a, mut b) = (db.client().await, db.client().await);
    let (ra, rb) = tokio::join!(migrate(&mut a), migrate(&mut b));
    assert_eq!(ra.unwrap() + rb.unwrap(), MIGRATIONS.len());
}

#[tokio::test]
async fn edited_migration_is_refused() {
    let db = TestDb::migrated().await;
    let mut client = db.client().await;
    client.execute("UPDATE schema_migrations SET checksum = '\\x00' WHERE version = 1", &[]).await.unwrap();
    assert!(matches!(migrate(&mut client).await, Err(MigrateError::Modified { .. })));
}

#[tokio::test]
async fn newer_database_is_refused() {
    let db = TestDb::migrated().await;
    let mut client = db.client().await;
    client
        .execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'future', '\\x00')",
            &[],
        )
        .await
        .unwrap();
    assert!(matches!(migrate(&mut client).await, Err(MigrateError::TooNew { db: 999, .. })));
}

#[tokio::test]
async fn partitions_are_created_on_demand() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    client.execute("SELECT taoscope_ensure_partitions($1, $2)", &[&0i64, &250_000i64]).await.unwrap();
    // Idempotent.
    client.execute("SELECT taoscope_ensure_partitions($1, $2)", &[&99_999i64, &100_000i64]).await.unwrap();
    let n: i64 = client
        .query_one("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 3);
    client
        .execute(
            "INSERT INTO events (block_number, index, phase, pallet, name, raw, data)
             VALUES (250001, 0, 'initialization', 'System', 'X', '\\x00', '{}')",
            &[],
        )
        .await
        .unwrap();
}
