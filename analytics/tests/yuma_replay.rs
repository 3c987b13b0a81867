//! The Yuma replay against subtensor's own expectations and the real netuid 15 metagraph.

use serde_json::json;
use taoscope_analytics::yuma_replay::{ReplayError, ReplayOutput, replay_json};

/// Subtensor's `setup_yuma_3_scenario` (`pallets/subtensor/src/tests/epoch.rs`, HEAD L2721):
/// 3 validators (uids 0–2, the first three entries of `stake`) and `M` servers (uids 3, 4, …),
/// kappa 0.5, bonds penalty 0, bonds moving average 0.975, 3 validator permits, and `liquid_alpha`
/// (the setup enables (0.1, 0.3) with steepness 1000, see [`liquid_alpha_on`]; a test may disable
/// it). `weights[e][v]` is validator `v`'s `[w(3), w(4), …]` at epoch `e`.
fn yuma3_run<const M: usize>(
    stake: &[f64],
    liquid_alpha: serde_json::Value,
    weights: &[[[f64; M]; 3]],
) -> ReplayOutput {
    replay_json(&yuma3_run_input(stake, liquid_alpha, weights).to_string()).unwrap()
}

/// The replay input of [`yuma3_run`].
fn yuma3_run_input<const M: usize>(
    stake: &[f64],
    liquid_alpha: serde_json::Value,
    weights: &[[[f64; M]; 3]],
) -> serde_json::Value {
    assert_eq!(stake.len(), 3 + M);
    let epochs: Vec<_> = weights
        .iter()
        .map(|rows| {
            let weights: serde_json::Map<String, serde_json::Value> = rows
                .iter()
                .enumerate()
                .map(|(v, row)| {
                    let row: Vec<_> = row.iter().enumerate().map(|(j, &w)| json!([3 + j, w])).collect();
                    (v.to_string(), json!(row))
                })
                .collect();
            json!({"stake": stake, "weights": weights})
        })
        .collect();
    json!({
        "version": "yuma3", "kappa": 0.5, "bond_penalty": 0.0, "bonds_moving_average": 0.975,
        "liquid_alpha": liquid_alpha, "max_validators": 3, "epochs": epochs,
    })
}

/// The liquid alpha `setup_yuma_3_scenario` enables.
fn liquid_alpha_on() -> serde_json::Value {
    json!({"alpha_low": 0.1, "alpha_high": 0.3, "steepness": 1000})
}

/// The setup's default stakes: a big validator (8) and two small ones (1, 1), two servers.
fn yuma3_scenario(weights: &[[[f64; 2]; 3]]) -> ReplayOutput {
    replay_json(&yuma3_input(weights).to_string()).unwrap()
}

/// The replay input of [`yuma3_scenario`].
fn yuma3_input(weights: &[[[f64; 2]; 3]]) -> serde_json::Value {
    yuma3_run_input(&[8.0, 1.0, 1.0, 0.0, 0.0], liquid_alpha_on(), weights)
}

/// Subtensor's tolerance in these tests.
const EPSILON: f64 = 1e-3;

/// Epoch `e` of `out` against subtensor's targets: `bonds[v]` is validator `v`'s bonds on servers
/// 3, 4, … and `dividends` one entry per uid.
///
/// Subtensor's `run_epoch_and_check_bonds_dividends` zips each dense bond row (one entry per uid)
/// with `target.iter().skip(3)`; its targets have only 2 or 3 entries, so it compares no bond at
/// all. Here each target is compared with the bond on the server it stands for (in
/// `test_yuma_3_liquid_alpha_disabled`, whose rows have 3 entries for 2 servers, the last two).
fn check_epoch<const M: usize, const N: usize>(
    out: &ReplayOutput,
    e: usize,
    bonds: &[[f64; M]; 3],
    dividends: &[f64; N],
) {
    let epoch = &out.epochs[e];
    for vector in [&epoch.consensus, &epoch.incentive, &epoch.dividends, &epoch.validator_trust] {
        assert_eq!(vector.len(), N, "epoch {e}");
    }
    for (uid, (&got, &want)) in epoch.dividends.iter().zip(dividends).enumerate() {
        assert!((got - want).abs() < EPSILON, "epoch {e} dividends[{uid}]: {got} vs {want}");
    }
    for (v, targets) in bonds.iter().enumerate() {
        let row = epoch.bonds.get(&v.to_string()).cloned().unwrap_or_default();
        for (miner, &want) in (3u16..).zip(targets) {
            let got = row.iter().find(|(j, _)| *j == miner).map_or(0.0, |(_, b)| *b);
            assert!((got - want).abs() < EPSILON, "epoch {e} bond {v}→{miner}: {got} vs {want}");
        }
    }
    // Only the validators hold bonds, and only on the servers.
    for (v, row) in &epoch.bonds {
        assert!(v.parse::<usize>().unwrap() < 3, "epoch {e}: bonds of uid {v}");
        assert!(row.iter().all(|&(j, _)| (3..N as u16).contains(&j)), "epoch {e}: bonds of {v}: {row:?}");
    }
    assert!((epoch.incentive.iter().sum::<f64>() - 1.0).abs() < 1e-6);
    assert!((epoch.dividends.iter().sum::<f64>() - 1.0).abs() < 1e-6);
}

/// Every epoch of `out` against subtensor's targets (see [`check_epoch`]).
fn check<const M: usize, const N: usize>(
    out: &ReplayOutput,
    bonds: &[[[f64; M]; 3]],
    dividends: &[[f64; N]],
) {
    assert_eq!(out.epochs.len(), dividends.len());
    assert_eq!(bonds.len(), dividends.len());
    for (e, (bonds, dividends)) in bonds.iter().zip(dividends).enumerate() {
        check_epoch(out, e, bonds, dividends);
    }
}

const ALL_ON_1: [[f64; 2]; 3] = [[1.0, 0.0]; 3];
const ALL_ON_2: [[f64; 2]; 3] = [[0.0, 1.0]; 3];

#[test]
fn yuma3_kappa_moves_first() {
    // test_yuma_3_kappa_moves_first (HEAD L2835).
    let weights = [
        ALL_ON_1,
        [[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]],
        [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]],
        ALL_ON_2,
        ALL_ON_2,
        ALL_ON_2,
    ];
    let bonds = [
        [[0.1013, 0.0], [0.1013, 0.0], [0.1013, 0.0]],
        [[0.0908, 0.1013], [0.3697, 0.0], [0.3697, 0.0]],
        [[0.0815, 0.1924], [0.3170, 0.1013], [0.5580, 0.0]],
        [[0.0731, 0.2742], [0.2765, 0.1924], [0.4306, 0.1013]],
        [[0.0656, 0.3478], [0.2435, 0.2742], [0.3589, 0.1924]],
        [[0.0588, 0.4139], [0.2157, 0.3478], [0.3089, 0.2742]],
    ];
    let dividends = [
        [0.8000, 0.1000, 0.1000, 0.0, 0.0],
        [1.0000, 0.0000, 0.0000, 0.0, 0.0],
        [0.9382, 0.0618, 0.0000, 0.0, 0.0],
        [0.8819, 0.0773, 0.0407, 0.0, 0.0],
        [0.8564, 0.0844, 0.0592, 0.0, 0.0],
        [0.8418, 0.0884, 0.0697, 0.0, 0.0],
    ];
    check(&yuma3_scenario(&weights), &bonds, &dividends);
}

#[test]
fn yuma3_kappa_moves_second() {
    // test_yuma_3_kappa_moves_second (HEAD L2938).
    let weights = [
        ALL_ON_1,
        [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]],
        [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]],
        ALL_ON_2,
        ALL_ON_2,
        ALL_ON_2,
    ];
    let bonds = [
        [[0.1013, 0.0], [0.1013, 0.0], [0.1013, 0.0]],
        [[0.1924, 0.0], [0.0908, 0.2987], [0.1924, 0.0]],
        [[0.1715, 0.1013], [0.0815, 0.3697], [0.4336, 0.0]],
        [[0.1531, 0.1924], [0.0731, 0.4336], [0.3608, 0.1013]],
        [[0.1369, 0.2742], [0.0656, 0.4910], [0.3103, 0.1924]],
        [[0.1225, 0.3478], [0.0588, 0.5426], [0.2712, 0.2742]],
    ];
    let dividends = [
        [0.8000, 0.1000, 0.1000, 0.0, 0.0],
        [0.8446, 0.0498, 0.1056, 0.0, 0.0],
        [0.6868, 0.3132, 0.0000, 0.0, 0.0],
        [0.7421, 0.2090, 0.0489, 0.0, 0.0],
        [0.7625, 0.1706, 0.0669, 0.0, 0.0],
        [0.7730, 0.1508, 0.0762, 0.0, 0.0],
    ];
    check(&yuma3_scenario(&weights), &bonds, &dividends);
}

#[test]
fn yuma3_kappa_moves_last() {
    // test_yuma_3_kappa_moves_last (HEAD L3040): the big validator moves last.
    let weights = [
        ALL_ON_1,
        [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]],
        [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]],
        ALL_ON_2,
        ALL_ON_2,
        ALL_ON_2,
    ];
    let bonds = [
        [[0.1013, 0.0], [0.1013, 0.0], [0.1013, 0.0]],
        [[0.1924, 0.0], [0.0908, 0.2987], [0.1924, 0.0]],
        [[0.2742, 0.0], [0.0815, 0.5081], [0.1715, 0.2987]],
        [[0.2416, 0.1013], [0.0731, 0.5580], [0.1531, 0.3697]],
        [[0.2141, 0.1924], [0.0656, 0.6028], [0.1369, 0.4336]],
        [[0.1903, 0.2742], [0.0588, 0.6430], [0.1225, 0.4910]],
    ];
    let dividends = [
        [0.8000, 0.1000, 0.1000, 0.0, 0.0],
        [0.8446, 0.0498, 0.1056, 0.0, 0.0],
        [0.8966, 0.0333, 0.0701, 0.0, 0.0],
        [0.4663, 0.3210, 0.2127, 0.0, 0.0],
        [0.5976, 0.2340, 0.1683, 0.0, 0.0],
        [0.6592, 0.1932, 0.1475, 0.0, 0.0],
    ];
    check(&yuma3_scenario(&weights), &bonds, &dividends);
}

/// Equal-stake validators (33, 33, 34) and the weights of `test_yuma_3_one_epoch_switch` and
/// `test_yuma_3_liquid_alpha_disabled`: all on server 1, except that validator C switches to
/// server 2 for epoch 2 only.
const ONE_EPOCH_SWITCH: [[[f64; 2]; 3]; 6] =
    [ALL_ON_1, ALL_ON_1, [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], ALL_ON_1, ALL_ON_1, ALL_ON_1];
const EQUAL_STAKE: [f64; 5] = [33.0, 33.0, 34.0, 0.0, 0.0];

#[test]
fn yuma3_one_epoch_switch() {
    // test_yuma_3_one_epoch_switch (HEAD L3142).
    let bonds = [
        [[0.1013, 0.0], [0.1013, 0.0], [0.1013, 0.0]],
        [[0.1924, 0.0], [0.1924, 0.0], [0.1924, 0.0]],
        [[0.2742, 0.0], [0.2742, 0.0], [0.1715, 0.2987]],
        [[0.3478, 0.0], [0.3478, 0.0], [0.2554, 0.2618]],
        [[0.4139, 0.0], [0.4139, 0.0], [0.3309, 0.2312]],
        [[0.4733, 0.0], [0.4733, 0.0], [0.3987, 0.2051]],
    ];
    let dividends = [
        [0.3300, 0.3300, 0.3400, 0.0, 0.0],
        [0.3300, 0.3300, 0.3400, 0.0, 0.0],
        [0.3782, 0.3782, 0.2436, 0.0, 0.0],
        [0.3628, 0.3628, 0.2745, 0.0, 0.0],
        [0.3541, 0.3541, 0.2917, 0.0, 0.0],
        [0.3487, 0.3487, 0.3026, 0.0, 0.0],
    ];
    check(&yuma3_run(&EQUAL_STAKE, liquid_alpha_on(), &ONE_EPOCH_SWITCH), &bonds, &dividends);
}

#[test]
fn yuma3_liquid_alpha_disabled() {
    // test_yuma_3_liquid_alpha_disabled (HEAD L3228): the one-epoch switch with liquid alpha
    // disabled after the setup, so every bond moves by the fixed 1 − 0.975 = 0.025. Subtensor's
    // bond targets have 3 entries per row ([0, b(3), b(4)]); the always-zero first one stands for
    // no server (the check asserts that validators hold bonds on servers 3 and 4 only).
    let bonds = [
        [[0.0250, 0.0], [0.0250, 0.0], [0.0250, 0.0]],
        [[0.0494, 0.0], [0.0494, 0.0], [0.0494, 0.0]],
        [[0.0731, 0.0], [0.0731, 0.0], [0.0481, 0.0250]],
        [[0.0963, 0.0], [0.0963, 0.0], [0.0719, 0.0244]],
        [[0.1189, 0.0], [0.1189, 0.0], [0.0951, 0.0238]],
        [[0.1409, 0.0], [0.1409, 0.0], [0.1178, 0.0232]],
    ];
    let dividends = [
        [0.3300, 0.3300, 0.3400, 0.0, 0.0],
        [0.3300, 0.3300, 0.3400, 0.0, 0.0],
        [0.3734, 0.3734, 0.2532, 0.0, 0.0],
        [0.3611, 0.3611, 0.2779, 0.0, 0.0],
        [0.3541, 0.3541, 0.2919, 0.0, 0.0],
        [0.3495, 0.3495, 0.3009, 0.0, 0.0],
    ];
    let out = yuma3_run(&EQUAL_STAKE, json!(null), &ONE_EPOCH_SWITCH);
    check(&out, &bonds, &dividends);
    // Liquid alpha is what tells the two apart.
    let liquid = yuma3_run(&EQUAL_STAKE, liquid_alpha_on(), &ONE_EPOCH_SWITCH);
    assert!((out.epochs[2].dividends[2] - liquid.epochs[2].dividends[2]).abs() > EPSILON);
}

#[test]
fn yuma3_stable_miner() {
    // test_yuma_3_stable_miner (HEAD L3317): three servers; server 5 keeps half of every
    // validator's weight while the other half moves from server 3 to server 4 (B first, then A,
    // then C). Subtensor sets u16::MAX / 2 on two servers, which `set_weights` max-upscales.
    let on_3_5 = [0.5, 0.0, 0.5];
    let on_4_5 = [0.0, 0.5, 0.5];
    let weights = [
        [on_3_5; 3],
        [on_3_5, on_4_5, on_3_5],
        [on_4_5, on_4_5, on_3_5],
        [on_4_5; 3],
        [on_4_5; 3],
        [on_4_5; 3],
    ];
    let bonds = [
        [[0.0507, 0.0000, 0.0507], [0.0507, 0.0000, 0.0507], [0.0507, 0.0000, 0.0507]],
        [[0.0962, 0.0000, 0.0962], [0.0455, 0.1000, 0.0962], [0.0962, 0.0000, 0.0962]],
        [[0.0863, 0.0507, 0.1371], [0.0408, 0.1405, 0.1371], [0.1770, 0.0000, 0.1371]],
        [[0.0774, 0.0962, 0.1739], [0.0367, 0.1770, 0.1739], [0.1579, 0.0507, 0.1739]],
        [[0.0694, 0.1371, 0.2069], [0.0329, 0.2097, 0.2069], [0.1411, 0.0962, 0.2069]],
        [[0.0623, 0.1739, 0.2366], [0.0296, 0.2391, 0.2366], [0.1263, 0.1371, 0.2366]],
    ];
    let dividends = [
        [0.8000, 0.1000, 0.1000, 0.0, 0.0, 0.0],
        [0.8226, 0.0745, 0.1028, 0.0, 0.0, 0.0],
        [0.7750, 0.1685, 0.0565, 0.0, 0.0, 0.0],
        [0.7864, 0.1372, 0.0764, 0.0, 0.0, 0.0],
        [0.7912, 0.1241, 0.0847, 0.0, 0.0, 0.0],
        [0.7937, 0.1173, 0.0890, 0.0, 0.0, 0.0],
    ];
    check(&yuma3_run(&[8.0, 1.0, 1.0, 0.0, 0.0, 0.0], liquid_alpha_on(), &weights), &bonds, &dividends);
}

#[test]
fn yuma3_bonds_reset() {
    // test_yuma_3_bonds_reset (HEAD L3431): at epoch 20 subtensor calls `do_reset_bonds` for
    // server 3's hotkey (every validator's bond on uid 3 is deleted) before the epoch runs; the
    // replay's `reset_bonds` does the same.
    let weights: Vec<_> = (0..=40)
        .map(|epoch| match epoch {
            0 => ALL_ON_1,
            // Validators B and C switch to server 2; A follows from epoch 2.
            1 => [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]],
            2..=20 => ALL_ON_2,
            // B and C switch back to server 1; A follows from epoch 22.
            21 => [[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]],
            _ => ALL_ON_1,
        })
        .collect();
    let mut input = yuma3_input(&weights);
    input["epochs"][20]["reset_bonds"] = json!([3]);
    let out = replay_json(&input.to_string()).unwrap();
    assert_eq!(out.epochs.len(), 41);
    let targets = [
        (0, [[0.1013, 0.0000], [0.1013, 0.0000], [0.1013, 0.0000]], [0.8000, 0.1000, 0.1000, 0.0, 0.0]),
        (1, [[0.1924, 0.0000], [0.0908, 0.2987], [0.0908, 0.2987]], [0.8944, 0.0528, 0.0528, 0.0, 0.0]),
        (2, [[0.1715, 0.1013], [0.0815, 0.3697], [0.0815, 0.3697]], [0.5230, 0.2385, 0.2385, 0.0, 0.0]),
        (19, [[0.0269, 0.8539], [0.0131, 0.8975], [0.0131, 0.8975]], [0.7919, 0.1040, 0.1040, 0.0, 0.0]),
        (20, [[0.0000, 0.8687], [0.0000, 0.9079], [0.0000, 0.9079]], [0.7928, 0.1036, 0.1036, 0.0, 0.0]),
        (21, [[0.0000, 0.8820], [0.2987, 0.6386], [0.2987, 0.6386]], [0.8467, 0.0766, 0.0766, 0.0, 0.0]),
        (40, [[0.8687, 0.0578], [0.9079, 0.0523], [0.9079, 0.0523]], [0.7928, 0.1036, 0.1036, 0.0, 0.0]),
    ];
    for (epoch, bonds, dividends) in &targets {
        check_epoch(&out, *epoch, bonds, dividends);
    }
}

/// The real netuid 15 metagraph (finney block 4,769,998: 256 uids, 20 validators' weights), three
/// epochs with the same stake and weights so bonds build up, under both Yumas.
#[test]
fn real_netuid15_metagraph() {
    let Some(dir) = taoscope_schema::testing::fixtures_dir() else { return };
    let text = std::fs::read_to_string(dir.join("yuma/netuid15_block4769998.json")).unwrap();
    let metagraph: serde_json::Value = serde_json::from_str(&text).unwrap();
    let epoch = json!({"stake": metagraph["stake"], "weights": metagraph["weights"]});
    let validators: Vec<usize> =
        metagraph["weights"].as_object().unwrap().keys().map(|k| k.parse().unwrap()).collect();
    assert_eq!(validators.len(), 20);
    for (version, liquid) in
        [("yuma2", json!(null)), ("yuma3", json!({"alpha_low": 0.7, "alpha_high": 0.9, "steepness": 1000}))]
    {
        let input = json!({
            "version": version, "kappa": 0.5, "bond_penalty": 1.0, "bonds_moving_average": 0.9,
            "liquid_alpha": liquid, "max_validators": 64, "epochs": [epoch, epoch, epoch],
        });
        let out = replay_json(&input.to_string()).unwrap();
        assert_eq!(out.epochs.len(), 3);
        for (e, result) in out.epochs.iter().enumerate() {
            let vectors = [
                &result.consensus,
                &result.incentive,
                &result.dividends,
                &result.validator_trust,
                &result.emission_share,
            ];
            assert!(vectors.iter().all(|v| v.len() == 256), "{version} epoch {e}");
            assert!((result.incentive.iter().sum::<f64>() - 1.0).abs() < 1e-6, "{version} epoch {e}");
            assert!((result.dividends.iter().sum::<f64>() - 1.0).abs() < 1e-6, "{version} epoch {e}");
            assert!((result.emission_share.iter().sum::<f64>() - 1.0).abs() < 1e-6, "{version} epoch {e}");
            // Only validators that set weights earn dividends; only uids someone weighted earn
            // incentive, and never more than their consensus allows.
            for uid in 0..256 {
                if result.dividends[uid] > 0.0 {
                    assert!(validators.contains(&uid), "{version} epoch {e}: uid {uid} has dividends");
                }
                assert!((0.0..=1.0).contains(&result.consensus[uid]));
                assert!((0.0..=1.0 + 1e-6).contains(&result.validator_trust[uid]));
            }
            let paid = result.incentive.iter().filter(|&&i| i > 0.0).count();
            assert!(paid > 10, "{version} epoch {e}: {paid} miners paid");
            for (v, row) in &result.bonds {
                assert!(validators.contains(&v.parse().unwrap()), "{version}: bonds of a non-validator {v}");
                assert!(row.iter().all(|&(_, b)| (0.0..=1.0).contains(&b)));
            }
        }
        // The bonds build up from nothing: epoch 1's dividends differ from epoch 0's.
        assert_ne!(out.epochs[0].dividends, out.epochs[1].dividends, "{version}");
        // Same input, same output.
        assert_eq!(replay_json(&input.to_string()).unwrap(), out, "{version}");
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let base = || {
        json!({"version": "yuma2", "kappa": 0.5, "bond_penalty": 1.0, "bonds_moving_average": 0.9,
               "liquid_alpha": null, "max_validators": 8,
               "epochs": [{"stake": [1.0, 1.0, 0.0], "weights": {"0": [[2, 1.0]], "1": [[2, 0.5]]}}]})
    };
    let error = |input: serde_json::Value| replay_json(&input.to_string()).err().unwrap();
    let mut x = base();
    x["kappa"] = json!(1.5);
    assert!(matches!(error(x), ReplayError::Parameter { name: "kappa", .. }));
    let mut x = base();
    x["version"] = json!("yuma9");
    assert!(matches!(error(x), ReplayError::Json(_)));
    let mut x = base();
    x["epochs"][0]["weights"]["0"] = json!([[7, 1.0]]);
    assert!(error(x).to_string().contains("miner 7, but there are 3 uids"));
    let mut x = base();
    x["epochs"][0]["weights"]["x"] = json!([[2, 1.0]]);
    assert!(error(x).to_string().contains("not a uid"));
    let mut x = base();
    x["epochs"][0]["stake"][1] = json!(-1.0);
    assert!(error(x).to_string().contains("epoch 0: stake of uid 1"));
    let mut x = base();
    x["liquid_alpha"] = json!({"alpha_low": 0.7, "alpha_high": 0.9, "steepness": 1000});
    assert!(matches!(error(x), ReplayError::Parameter { name: "liquid_alpha", .. }));
    let mut x = base();
    x["epochs"][0]["validator_permits"] = json!([true]);
    assert!(error(x).to_string().contains("validator_permits has 1 entries for 3 uids"));
    let mut x = base();
    x["epochs"][0]["reset_bonds"] = json!([3]);
    assert!(error(x).to_string().contains("epoch 0: reset_bonds names uid 3, but there are 3 uids"));
    let mut x = base();
    x["surprise"] = json!(1);
    assert!(matches!(error(x), ReplayError::Json(_)));
    // And the base itself replays: validator 0 and 1 both weight miner 2.
    let out = replay_json(&base().to_string()).unwrap();
    assert_eq!(out.epochs[0].incentive, vec![0.0, 0.0, 1.0]);
    assert!((out.epochs[0].dividends[0] - 0.5).abs() < 1e-6);
}
