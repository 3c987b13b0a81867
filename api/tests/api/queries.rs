//! Every query against a real indexed and analysed devnet, compared with SQL over the tables.

use serde_json::{Value, json};

use crate::world::{World, world};

/// Follows `endCursor` through a connection at `path` (root field names) and returns every node.
async fn all_nodes(w: &World, query: &str, mut variables: Value, path: &[&str]) -> Vec<Value> {
    let mut nodes = Vec::new();
    for _ in 0..1_000 {
        let data = w.data(query, variables.clone()).await;
        let connection = path.iter().fold(&data, |v, key| &v[*key]);
        let edges = connection["edges"].as_array().unwrap_or_else(|| panic!("no edges at {path:?}: {data}"));
        nodes.extend(edges.iter().map(|e| e["node"].clone()));
        if connection["pageInfo"]["hasNextPage"] != json!(true) {
            return nodes;
        }
        variables["after"] = connection["pageInfo"]["endCursor"].clone();
    }
    panic!("pagination did not end");
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test]
async fn subnets_candles_emissions_flows_neurons_rankings_and_audit_match_the_tables() {
    let w = world().await;
    // Current state: every live subnet, its newest pool row, emission shares summing to 1.
    let subnets = w
        .data(
            "{ subnets { netuid name symbol blockNumber price movingPrice taoIn taoInTao alphaIn alphaOut
                         marketCap liquidityTao emissionShare tempo owner ownerHotkey registeredAt priceSource } }",
            json!({}),
        )
        .await["subnets"]
        .as_array()
        .expect("subnets")
        .clone();
    let expected: i64 = w.scalar("SELECT count(DISTINCT netuid) FROM pool_state").await;
    assert_eq!(subnets.len() as i64, expected);
    let head: i64 = w.scalar("SELECT max(block_number) FROM pool_state").await;
    let first_pool_block: i64 = w.scalar("SELECT min(block_number) FROM pool_state").await;
    let mut shares = 0.0;
    for s in &subnets {
        let netuid = s["netuid"].as_i64().expect("netuid");
        assert_eq!(s["blockNumber"], json!(head));
        let row = w
            .client
            .query_one(
                "SELECT tao, alpha_in, alpha_out, price::float8 FROM pool_state WHERE netuid = $1 AND block_number = $2",
                &[&(netuid as i32), &head],
            )
            .await
            .expect("pool row");
        let (tao, alpha_in, alpha_out, price): (i64, i64, i64, f64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        assert_eq!(s["taoIn"], json!(tao.to_string()), "Rao is an exact string");
        assert_eq!(f(&s["taoInTao"]), tao as f64 / 1e9);
        assert_eq!(s["alphaIn"], json!(alpha_in.to_string()));
        assert_eq!(s["alphaOut"], json!(alpha_out.to_string()));
        assert_eq!(f(&s["price"]), price);
        assert!((f(&s["marketCap"]) - price * (alpha_in + alpha_out) as f64 / 1e9).abs() < 1e-6);
        // Identities as the indexer read them from the node's `get_all_dynamic_info`.
        let n = netuid as u16;
        assert_eq!(s["name"], json!(taoscope_devnet::runtime::apis::subnet_name(n)), "{s}");
        assert_eq!(s["symbol"], json!(taoscope_devnet::runtime::apis::token_symbol(n)), "{s}");
        let recorded = w
            .client
            .query_one(
                "SELECT owner_coldkey, owner_hotkey, registered_at, tempo FROM subnets WHERE netuid = $1",
                &[&(netuid as i32)],
            )
            .await
            .expect("a subnets row");
        assert_eq!(s["owner"], json!(recorded.get::<_, String>(0)), "{s}");
        assert!(s["owner"].as_str().is_some_and(|o| o.starts_with('5') && o.len() == 48), "{s}");
        assert_eq!(s["ownerHotkey"], json!(recorded.get::<_, String>(1)), "{s}");
        let registered_at: i64 = recorded.get(2);
        assert_eq!(s["registeredAt"], json!(registered_at), "{s}");
        let first_seen: i64 =
            w.scalar(&format!("SELECT min(block_number) FROM pool_state WHERE netuid = {netuid}")).await;
        if first_seen > first_pool_block {
            // Registered while indexed: the pool first appears at the registration block.
            assert_eq!(registered_at, first_seen, "{s}");
        } else {
            assert!(registered_at <= first_seen, "{s}");
        }
        if netuid > 0 {
            assert_eq!(s["tempo"], json!(9), "{s}");
            assert_eq!(recorded.get::<_, Option<i32>>(3), Some(9));
            // The owner hotkey the epochs read from `SubnetOwnerHotkey` storage.
            let epoch_owner: Option<String> = w
                .client
                .query_opt(
                    "SELECT owner_hotkey FROM epochs WHERE netuid = $1 ORDER BY block_number DESC LIMIT 1",
                    &[&(netuid as i32)],
                )
                .await
                .expect("epoch owner")
                .and_then(|r| r.get(0));
            if let Some(epoch_owner) = epoch_owner {
                assert_eq!(s["ownerHotkey"], json!(epoch_owner), "{s}");
            }
        }
        shares += s["emissionShare"].as_f64().unwrap_or(0.0);
    }
    assert!((shares - 1.0).abs() < 1e-9, "emission shares sum to {shares}");

    let netuid: i32 = w.scalar("SELECT min(netuid) FROM pool_state WHERE netuid > 0").await;
    let one = w.data("query($n: Int!) { subnet(netuid: $n) { netuid price } }", json!({ "n": netuid })).await;
    assert_eq!(one["subnet"]["netuid"], json!(netuid));
    assert_eq!(w.data("{ subnet(netuid: 999) { netuid } }", json!({})).await["subnet"], Value::Null);

    // Candles: paging through every hourly candle gives the table's rows in order.
    let candles_query = "query($n: Int!, $after: String) { subnet(netuid: $n) {
        candles(interval: H1, first: 7, after: $after) {
            edges { cursor node { start open high low close twap volume volumeTao trades blocks firstBlock lastBlock } }
            pageInfo { hasNextPage endCursor } } } }";
    let candles = all_nodes(&w, candles_query, json!({ "n": netuid }), &["subnet", "candles"]).await;
    let count: i64 =
        w.scalar(&format!("SELECT count(*) FROM candles WHERE netuid = {netuid} AND interval = '1h'")).await;
    assert_eq!(candles.len() as i64, count);
    assert!(count > 20, "{count} hourly candles");
    let volume: i64 = w
        .scalar(&format!(
            "SELECT sum(volume_rao)::bigint FROM candles WHERE netuid = {netuid} AND interval = '1h'"
        ))
        .await;
    let paged: i64 = candles.iter().map(|c| c["volume"].as_str().unwrap().parse::<i64>().unwrap()).sum();
    assert_eq!(paged, volume);
    for pair in candles.windows(2) {
        assert!(pair[0]["start"].as_str() < pair[1]["start"].as_str(), "ascending by start");
    }
    for c in &candles {
        assert!(f(&c["low"]) <= f(&c["open"]) && f(&c["open"]) <= f(&c["high"]), "{c}");
        assert!(f(&c["low"]) - 1e-12 <= f(&c["twap"]) && f(&c["twap"]) <= f(&c["high"]) + 1e-12, "{c}");
    }
    // Newest first, and a time window.
    let newest = w
        .data(
            "query($n: Int!) { subnet(netuid: $n) { candles(interval: D1, order: DESC, first: 1) { edges { node { start } } } } }",
            json!({ "n": netuid }),
        )
        .await;
    let last_day: String = w
        .scalar(&format!(
            "SELECT to_char(max(bucket_start) AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM candles WHERE netuid = {netuid} AND interval = '1d'"
        ))
        .await;
    assert!(
        newest["subnet"]["candles"]["edges"][0]["node"]["start"].as_str().unwrap().starts_with(&last_day)
    );

    // TWAP: a window holding exactly one block's 20 minutes is that block's price.
    let (start, price): (String, f64) = {
        let row = w
            .client
            .query_one(
                "SELECT to_char(b.timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), p.price::float8
                   FROM pool_state p JOIN blocks b ON b.number = p.block_number
                  WHERE p.netuid = $1 AND p.block_number = 50",
                &[&netuid],
            )
            .await
            .expect("block 50");
        (row.get(0), row.get(1))
    };
    let end =
        (chrono::DateTime::parse_from_rfc3339(&start).unwrap() + chrono::Duration::minutes(20)).to_rfc3339();
    let twap = w
        .data(
            "query($n: Int!, $from: DateTime!, $to: DateTime!) { subnet(netuid: $n) { twap(from: $from, to: $to) } }",
            json!({ "n": netuid, "from": start, "to": end }),
        )
        .await;
    assert!((f(&twap["subnet"]["twap"]) - price).abs() < 1e-12, "{twap} vs {price}");

    // Emissions and flows per day equal the analytics tables.
    let emissions = all_nodes(
        &w,
        "query($n: Int!, $after: String) { subnet(netuid: $n) { emissions(first: 2, after: $after) {
            edges { cursor node { day taoIn taoInTao alphaOut ownerAlpha minerAlpha validatorAlpha rootAlpha taoShare era } }
            pageInfo { hasNextPage endCursor } } } }",
        json!({ "n": netuid }),
        &["subnet", "emissions"],
    )
    .await;
    let days: i64 = w.scalar(&format!("SELECT count(*) FROM emissions_daily WHERE netuid = {netuid}")).await;
    assert_eq!(emissions.len() as i64, days);
    assert!(days >= 2);
    let tao_in: i64 =
        w.scalar(&format!("SELECT sum(tao_in)::bigint FROM emissions_daily WHERE netuid = {netuid}")).await;
    let paged: i64 = emissions.iter().map(|d| d["taoIn"].as_str().unwrap().parse::<i64>().unwrap()).sum();
    assert_eq!(paged, tao_in);
    let flows = w
        .data(
            "query($n: Int!) { subnet(netuid: $n) { flows { edges { node { day taoIn taoOut netFlow netFlowTao stakes unstakes emaFlow } } } } }",
            json!({ "n": netuid }),
        )
        .await;
    let flows = flows["subnet"]["flows"]["edges"].as_array().unwrap().clone();
    let net: i64 = w
        .scalar(&format!(
            "SELECT COALESCE(sum(net_flow), 0)::bigint FROM flows_daily WHERE netuid = {netuid}"
        ))
        .await;
    assert_eq!(
        flows.iter().map(|e| e["node"]["netFlow"].as_str().unwrap().parse::<i64>().unwrap()).sum::<i64>(),
        net
    );

    // Neurons of the newest epoch, by stake.
    let neurons = all_nodes(
        &w,
        "query($n: Int!, $after: String) { subnet(netuid: $n) { neurons(orderBy: STAKE_DESC, first: 5, after: $after) {
            edges { cursor node { blockNumber uid hotkey coldkey stake incentive dividends emission validatorPermit } }
            pageInfo { hasNextPage endCursor } } } }",
        json!({ "n": netuid }),
        &["subnet", "neurons"],
    )
    .await;
    let uids: i64 = w
        .scalar(&format!(
            "SELECT count(*) FROM metagraph WHERE netuid = {netuid}
               AND block_number = (SELECT max(block_number) FROM metagraph WHERE netuid = {netuid})"
        ))
        .await;
    assert_eq!(neurons.len() as i64, uids);
    let stakes: Vec<i64> = neurons.iter().map(|n| n["stake"].as_str().unwrap().parse().unwrap()).collect();
    assert!(stakes.windows(2).all(|p| p[0] >= p[1]), "{stakes:?}");
    let mut seen: Vec<i64> = neurons.iter().map(|n| n["uid"].as_i64().unwrap()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len() as i64, uids, "every uid once across pages");

    // Rankings of the newest analysed epoch, in rank order.
    let rankings = w
        .data(
            "query($n: Int!) { subnet(netuid: $n) {
                minerRankings(first: 1000) { edges { node { blockNumber uid rankIncentive incentive emission emissionTao } } }
                validatorRankings(first: 1000) { edges { node { uid rankDividends dividends stake apy } } } } }",
            json!({ "n": netuid }),
        )
        .await;
    let miners = rankings["subnet"]["minerRankings"]["edges"].as_array().unwrap();
    let expected_miners: i64 = w
        .scalar(&format!(
            "SELECT count(*) FROM miner_rankings WHERE netuid = {netuid}
               AND block_number = (SELECT max(block_number) FROM miner_rankings WHERE netuid = {netuid})"
        ))
        .await;
    assert_eq!(miners.len() as i64, expected_miners);
    assert!(expected_miners > 0);
    assert_eq!(miners[0]["node"]["rankIncentive"], json!(1));
    let ranks: Vec<i64> = miners.iter().map(|m| m["node"]["rankIncentive"].as_i64().unwrap()).collect();
    assert!(ranks.windows(2).all(|p| p[0] <= p[1]));
    let validators = rankings["subnet"]["validatorRankings"]["edges"].as_array().unwrap();
    assert!(!validators.is_empty());
    assert_eq!(validators[0]["node"]["rankDividends"], json!(1));

    // The audit: the newest epochs, newest first, exact on the devnet.
    let audit = w
        .data(
            "query($n: Int!) { subnet(netuid: $n) { yumaAudit(lastEpochs: 5) { blockNumber status maxDeviation uidsBeyond } } }",
            json!({ "n": netuid }),
        )
        .await;
    let audit = audit["subnet"]["yumaAudit"].as_array().unwrap();
    assert_eq!(audit.len(), 5);
    let newest_audit: i64 =
        w.scalar(&format!("SELECT max(block_number) FROM yuma_audit WHERE netuid = {netuid}")).await;
    assert_eq!(audit[0]["blockNumber"], json!(newest_audit));
    assert!(audit.iter().all(|a| a["status"] == json!("exact")), "{audit:?}");
}

#[tokio::test]
async fn chain_stake_events_accounts_and_hotkeys_match_the_tables() {
    let w = world().await;

    // Events by pallet and name, through pages, both orders.
    let query = "query($after: String, $order: SortOrder) {
        events(pallet: \"SubtensorModule\", name: \"StakeAdded\", order: $order, first: 50, after: $after) {
            edges { cursor node { blockNumber index pallet name data timestamp } }
            pageInfo { hasNextPage endCursor } } }";
    let asc = all_nodes(&w, query, json!({ "order": "ASC" }), &["events"]).await;
    let desc = all_nodes(&w, query, json!({ "order": "DESC" }), &["events"]).await;
    let expected: i64 = w
        .scalar("SELECT count(*) FROM events WHERE pallet = 'SubtensorModule' AND name = 'StakeAdded'")
        .await;
    assert_eq!(asc.len() as i64, expected);
    assert!(expected > 50);
    assert_eq!(asc.iter().rev().cloned().collect::<Vec<_>>(), desc);
    assert!(asc.iter().all(|e| e["name"] == json!("StakeAdded") && e["timestamp"].is_string()));

    // A block with its extrinsics and events.
    let block = w
        .data(
            "{ block(number: 120) { number extrinsicCount eventCount
                 extrinsics(first: 1000) { edges { node { index pallet call signer success fee feeTao } } }
                 events(first: 1000) { edges { node { index name } } } } }",
            json!({}),
        )
        .await;
    let b = &block["block"];
    assert_eq!(
        b["extrinsics"]["edges"].as_array().unwrap().len() as u64,
        b["extrinsicCount"].as_u64().unwrap()
    );
    assert_eq!(b["events"]["edges"].as_array().unwrap().len() as u64, b["eventCount"].as_u64().unwrap());

    // A signer's extrinsics.
    let signer: String =
        w.scalar("SELECT signer FROM extrinsics WHERE signer IS NOT NULL GROUP BY signer ORDER BY count(*) DESC LIMIT 1").await;
    let signed = all_nodes(
        &w,
        "query($s: String, $after: String) { extrinsics(signer: $s, first: 100, after: $after) {
            edges { cursor node { blockNumber index signer call } } pageInfo { hasNextPage endCursor } } }",
        json!({ "s": signer }),
        &["extrinsics"],
    )
    .await;
    let expected: i64 = w.scalar(&format!("SELECT count(*) FROM extrinsics WHERE signer = '{signer}'")).await;
    assert_eq!(signed.len() as i64, expected);

    // A coldkey's stake events and positions.
    let coldkey: String =
        w.scalar("SELECT coldkey FROM stake_ledger WHERE coldkey IS NOT NULL GROUP BY coldkey ORDER BY count(*) DESC LIMIT 1").await;
    let events = all_nodes(
        &w,
        "query($c: String, $after: String) { stakeEvents(coldkey: $c, first: 30, after: $after) {
            edges { cursor node { blockNumber eventIndex direction coldkey hotkey netuid tao alpha fee movement } }
            pageInfo { hasNextPage endCursor } } }",
        json!({ "c": coldkey }),
        &["stakeEvents"],
    )
    .await;
    let expected: i64 =
        w.scalar(&format!("SELECT count(*) FROM stake_ledger WHERE coldkey = '{coldkey}'")).await;
    assert_eq!(events.len() as i64, expected);
    assert!(events.iter().all(|e| e["coldkey"] == json!(coldkey)));
    let account = w
        .data(
            "query($c: String!) { account(coldkey: $c) {
                coldkey stakes { hotkey netuid alpha alphaAlpha taoValue taoValueTao }
                stakeEvents(first: 1000) { edges { node { blockNumber } } } } }",
            json!({ "c": coldkey }),
        )
        .await;
    assert_eq!(account["account"]["stakeEvents"]["edges"].as_array().unwrap().len() as i64, expected);
    let positions: i64 = w
        .scalar(&format!(
            "SELECT count(*) FROM (SELECT hotkey, netuid FROM stake_ledger WHERE coldkey = '{coldkey}' AND netuid IS NOT NULL
               GROUP BY hotkey, netuid
               HAVING sum(CASE WHEN direction = 'add' THEN COALESCE(alpha, 0)
                               ELSE -(COALESCE(alpha, 0) + CASE WHEN fee_token = 'alpha' THEN fee ELSE 0 END) END) > 0) p"
        ))
        .await;
    let stakes = account["account"]["stakes"].as_array().unwrap();
    assert_eq!(stakes.len() as i64, positions);
    for s in stakes {
        assert!(s["alpha"].as_str().unwrap().parse::<i64>().unwrap() > 0);
        assert!(s["taoValueTao"].as_f64().is_some(), "{s}");
    }

    // A hotkey: registrations, newest neurons, emissions per epoch.
    let hotkey: String = w
        .scalar("SELECT hotkey FROM registrations GROUP BY hotkey ORDER BY count(*) DESC, hotkey LIMIT 1")
        .await;
    let h = w
        .data(
            "query($h: String!) { hotkey(ss58: $h) {
                ss58 registrations { netuid uid blockNumber replaced }
                neurons { netuid uid blockNumber }
                emissions(first: 1000) { edges { node { blockNumber netuid uid emission } } } } }",
            json!({ "h": hotkey }),
        )
        .await;
    let registrations: i64 =
        w.scalar(&format!("SELECT count(*) FROM registrations WHERE hotkey = '{hotkey}'")).await;
    assert_eq!(h["hotkey"]["registrations"].as_array().unwrap().len() as i64, registrations);
    let epochs: i64 = w.scalar(&format!("SELECT count(*) FROM metagraph WHERE hotkey = '{hotkey}'")).await;
    assert_eq!(h["hotkey"]["emissions"]["edges"].as_array().unwrap().len() as i64, epochs);

    // Status.
    let status = w
        .data("{ status { indexedHeight finalizedHeight lagBlocks specVersion analyticsHeight } }", json!({}))
        .await;
    assert_eq!(status["status"]["indexedHeight"], json!(crate::world::BLOCKS));
    assert_eq!(status["status"]["lagBlocks"], json!(0));
    assert_eq!(status["status"]["analyticsHeight"], json!(crate::world::BLOCKS));
    let _ = &w.db;
}

/// The API's TWAP (SQL) is the analytics' definition (`prices::twap`, Polars): the same
/// windows, the same numbers.
#[tokio::test]
async fn twap_agrees_with_the_analytics_definition() {
    use polars::prelude::{DataFrame, IntoLazy, NamedFrom, Series};

    let w = world().await;
    let netuid: i32 = w.scalar("SELECT min(netuid) FROM pool_state WHERE netuid > 0").await;
    let rows = w
        .client
        .query(
            "SELECT p.block_number, (extract(epoch FROM b.timestamp) * 1000)::bigint, p.price::float8
               FROM pool_state p JOIN blocks b ON b.number = p.block_number
              WHERE p.netuid = $1 AND b.timestamp IS NOT NULL ORDER BY p.block_number",
            &[&netuid],
        )
        .await
        .expect("pool rows");
    let blocks: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let ts: Vec<i64> = rows.iter().map(|r| r.get(1)).collect();
    let prices: Vec<f64> = rows.iter().map(|r| r.get(2)).collect();
    let minute = 60_000;
    // Inside a block's 20 minutes, across many blocks, starting before the history, ending after it.
    let windows = [
        (ts[30] + 7 * minute, ts[95] + 3 * minute),
        (ts[10], ts[11]),
        (ts[0] - 90 * minute, ts[40] + 19 * minute),
        (ts[150] + minute, ts[ts.len() - 1] + 300 * minute),
    ];
    for (from_ms, to_ms) in windows {
        let frame = DataFrame::new(
            blocks.len(),
            vec![
                Series::new("netuid".into(), vec![netuid; blocks.len()]).into(),
                Series::new("block".into(), blocks.clone()).into(),
                Series::new("ts".into(), ts.clone()).into(),
                Series::new("price".into(), prices.clone()).into(),
            ],
        )
        .expect("frame");
        let expected = std::thread::spawn(move || {
            let out =
                taoscope_analytics::prices::twap(frame.lazy(), from_ms, to_ms).unwrap().collect().unwrap();
            out.column("twap").unwrap().f64().unwrap().get(0).unwrap()
        })
        .join()
        .expect("polars");
        let at = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339();
        let got = w
            .data(
                "query($n: Int!, $from: DateTime!, $to: DateTime!) { subnet(netuid: $n) { twap(from: $from, to: $to) } }",
                json!({ "n": netuid, "from": at(from_ms), "to": at(to_ms) }),
            )
            .await;
        let got = f(&got["subnet"]["twap"]);
        assert!(
            (got - expected).abs() <= 1e-12 * expected.abs(),
            "[{from_ms}, {to_ms}): api {got} vs analytics {expected}"
        );
    }
}
