//! The Yuma replay against subtensor's own expectations and the real netuid 15 metagraph.

use serde_json::json;
use taoscope_analytics::yuma_replay::{ReplayError, ReplayOutput, replay_json};

/// Subtensor's `setup_yuma_3_scenario` (`pallets/subtensor/src/tests/epoch.rs`, HEAD L2721):
/// 3 validators (stake 8, 1, 1) and 2 servers (uids 3, 4), kappa 0.5, bonds penalty 0, bonds
/// moving average 0.975, liquid alpha (0.1, 0.3) with steepness 1000, 3 validator permits.
/// `weights[e]` is each validator's `[w(3), w(4)]` at epoch `e`.
fn yuma3_scenario(weights: &[[[f64; 2]; 3]]) -> ReplayOutput {
    let epochs: Vec<_> = weights
        .iter()
        .map(|rows| {
            let weights: serde_json::Map<String, serde_json::Value> =
                (0..3).map(|v| (v.to_string(), json!([[3, rows[v][0]], [4, rows[v][1]]]))).collect();
            json!({"stake": [8.0, 1.0, 1.0, 0.0, 0.0], "weights": weights})
        })
        .collect();
    let input = json!({
        "version": "yuma3", "kappa": 0.5, "bond_penalty": 0.0, "bonds_moving_average": 0.975,
        "liquid_alpha": {"alpha_low": 0.1, "alpha_high": 0.3, "steepness": 1000},
        "max_validators": 3, "epochs": epochs,
    });
    replay_json(&input.to_string()).unwrap()
}

/// Subtensor's tolerance in these tests.
const EPSILON: f64 = 1e-3;

fn check(out: &ReplayOutput, bonds: &[[[f64; 2]; 3]], dividends: &[[f64; 5]]) {
    assert_eq!(out.epochs.len(), dividends.len());
    for (e, epoch) in out.epochs.iter().enumerate() {
        for (uid, (&got, &want)) in epoch.dividends.iter().zip(&dividends[e]).enumerate() {
            assert!((got - want).abs() < EPSILON, "epoch {e} dividends[{uid}]: {got} vs {want}");
        }
        for (v, targets) in bonds[e].iter().enumerate() {
            let row = epoch.bonds.get(&v.to_string()).cloned().unwrap_or_default();
            for (&miner, &want) in [3u16, 4].iter().zip(targets) {
                let got = row.iter().find(|(j, _)| *j == miner).map_or(0.0, |(_, b)| *b);
                assert!((got - want).abs() < EPSILON, "epoch {e} bond {v}→{miner}: {got} vs {want}");
            }
        }
        for vector in [&epoch.consensus, &epoch.incentive, &epoch.dividends, &epoch.validator_trust] {
            assert_eq!(vector.len(), 5);
        }
        assert!((epoch.incentive.iter().sum::<f64>() - 1.0).abs() < 1e-6);
        assert!((epoch.dividends.iter().sum::<f64>() - 1.0).abs() < 1e-6);
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
    x["surprise"] = json!(1);
    assert!(matches!(error(x), ReplayError::Json(_)));
    // And the base itself replays: validator 0 and 1 both weight miner 2.
    let out = replay_json(&base().to_string()).unwrap();
    assert_eq!(out.epochs[0].incentive, vec![0.0, 0.0, 1.0]);
    assert!((out.epochs[0].dividends[0] - 0.5).abs() < 1e-6);
}
