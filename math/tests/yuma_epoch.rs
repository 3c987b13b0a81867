//! Behaviour of the Yuma epoch on small hand-made and pseudo-random subnets: degenerate inputs
//! never panic and keep vector lengths, the runtime rules (permits, stake threshold, owner,
//! bond masks) act as on chain, emission is conserved, and `f64` agrees with `I32F32`.

use taoscope_math::yuma::{
    BondsMask, EpochInput, EpochOutput, I32F32, Scalar, YumaParams, YumaRules, epoch_with,
};

/// Owned inputs for building an [`EpochInput`] in tests.
struct Case {
    block: u64,
    stake: Vec<u64>,
    weights: Vec<Vec<(u16, u16)>>,
    bonds: Vec<Vec<(u16, u16)>>,
    last_update: Vec<u64>,
    registered: Vec<u64>,
    permits: Vec<bool>,
    params: YumaParams,
    emission: u64,
}

impl Case {
    fn new(stake: &[u64]) -> Self {
        let n = stake.len();
        Self {
            block: 100,
            stake: stake.to_vec(),
            weights: vec![Vec::new(); n],
            bonds: vec![Vec::new(); n],
            last_update: vec![100; n],
            registered: vec![0; n],
            permits: vec![true; n],
            params: YumaParams::V2_0_0,
            emission: 1_000_000_000,
        }
    }

    fn input(&self) -> EpochInput<'_> {
        EpochInput {
            current_block: self.block,
            stake: &self.stake,
            weights: &self.weights,
            bonds: &self.bonds,
            last_update: &self.last_update,
            block_at_registration: &self.registered,
            validator_permit: &self.permits,
            params: self.params,
            emission: self.emission,
        }
    }

    fn run<S: Scalar>(&self) -> EpochOutput {
        epoch_with::<S>(&self.input())
    }
}

fn assert_lengths(out: &EpochOutput, n: usize) {
    let lengths = [
        out.active.len(),
        out.stake_weight.len(),
        out.rank.len(),
        out.trust.len(),
        out.consensus.len(),
        out.incentive.len(),
        out.dividends.len(),
        out.validator_trust.len(),
        out.validator_permit.len(),
        out.pruning_scores.len(),
        out.bonds.len(),
        out.server_emission.len(),
        out.validator_emission.len(),
        out.emission.len(),
    ];
    assert!(lengths.iter().all(|&l| l == n), "{lengths:?} != {n}");
}

fn total(out: &EpochOutput) -> u64 {
    out.server_emission.iter().chain(&out.validator_emission).sum()
}

#[test]
fn empty_subnet() {
    let case = Case::new(&[]);
    assert_eq!(case.run::<f64>(), EpochOutput::default());
    assert_eq!(case.run::<I32F32>(), EpochOutput::default());
}

#[test]
fn single_self_weighting_neuron_gets_everything_as_validator() {
    let mut case = Case::new(&[100]);
    case.weights[0] = vec![(0, u16::MAX)];
    for out in [case.run::<f64>(), case.run::<I32F32>()] {
        assert_lengths(&out, 1);
        assert_eq!(out.incentive, vec![0]);
        assert_eq!(out.validator_emission, vec![1_000_000_000]);
        assert_eq!(out.emission, vec![1_000_000_000]);
        assert_eq!(out.validator_permit, vec![true]);
    }
}

#[test]
fn zero_stake_and_no_weights_pay_nothing() {
    let mut case = Case::new(&[0, 0, 0, 0]);
    case.weights[0] = vec![(1, 100), (2, 200)];
    for out in [case.run::<f64>(), case.run::<I32F32>()] {
        assert_lengths(&out, 4);
        assert_eq!(total(&out), 0);
        assert_eq!(out.emission, vec![0; 4]);
    }
}

#[test]
fn no_weights_pay_validators_by_active_stake() {
    let mut case = Case::new(&[1, 3, 4]);
    case.block = 100_000;
    case.last_update = vec![99_000, 95_000, 94_999]; // uid 2: 94_999 + 5_000 < 100_000
    let out = case.run::<I32F32>();
    assert_eq!(out.active, vec![true, true, false]);
    assert_eq!(out.server_emission, vec![0; 3]);
    assert_eq!(out.validator_emission, vec![250_000_000, 750_000_000, 0]);
    // With nobody active the chain falls back to plain stake.
    case.last_update = vec![0; 3];
    let out = case.run::<f64>();
    assert_eq!(out.validator_emission, vec![125_000_000, 375_000_000, 500_000_000]);
}

#[test]
fn short_and_out_of_range_inputs_do_not_panic() {
    let mut case = Case::new(&[5, 5, 5]);
    case.weights = vec![vec![(1, 10), (9, 10), (2, 0)]];
    case.bonds = vec![vec![(7, 3)], vec![], vec![], vec![(0, 1)]];
    case.last_update = vec![100];
    case.registered = vec![];
    case.permits = vec![true];
    for out in [case.run::<f64>(), case.run::<I32F32>()] {
        assert_lengths(&out, 3);
        assert_eq!(out.incentive[1], u16::MAX);
    }
}

#[test]
fn two_validators_two_miners() {
    let mut case = Case::new(&[600, 400, 0, 0]);
    case.weights[0] = vec![(2, u16::MAX), (3, u16::MAX)];
    case.weights[1] = vec![(2, u16::MAX)];
    let out = case.run::<I32F32>();
    // Consensus: 60 % of stake says ½ for both miners; uid 1 says 1 for miner 2 ⇒ C = [½, ½].
    assert_eq!(&out.consensus[2..], &[32_767, 32_767]);
    // Validator 1's weight on miner 2 is clipped from 1 to ½.
    assert_eq!(&out.validator_trust[..2], &[65_535, 32_767]);
    // Ranks: miner 2 = 0.6·½ + 0.4·½ = 0.5, miner 3 = 0.3 ⇒ incentive 0.625 / 0.375.
    assert_eq!(&out.incentive[2..], &[40_959, 24_575]);
    assert_eq!(out.server_emission[2] + out.server_emission[3], 499_999_999);
    assert!(out.validator_emission[0] > out.validator_emission[1]);
    assert_eq!(out.validator_permit, vec![true, true, true, true]);
}

#[test]
fn rules_of_later_runtimes() {
    let mut case = Case::new(&[600, 400, 0, 50]);
    case.weights[0] = vec![(0, u16::MAX), (2, u16::MAX)];
    case.params.rules = YumaRules::for_spec(283, case.block, 360, Some(0));
    case.params.stake_threshold = 100;
    let out = case.run::<I32F32>();
    // Zero and below-threshold stake get no permit from spec 273.
    assert_eq!(out.validator_permit, vec![true, true, false, false]);
    assert_eq!(out.stake_weight[3], 0);
    // The owner's self-weight survives the diagonal mask: it shares incentive with miner 2.
    assert_eq!(out.incentive[0], out.incentive[2]);
    assert!(out.incentive[0] > 0);
    // From spec 401 the owner is permitted even without stake.
    let mut case = Case::new(&[0, 400]);
    case.permits = vec![false, true];
    case.params.rules = YumaRules::for_spec(401, case.block, 360, Some(0));
    let out = case.run::<f64>();
    assert_eq!(out.validator_permit, vec![true, true]);
}

#[test]
fn bonds_to_reregistered_uids_are_dropped() {
    let mut case = Case::new(&[100, 0, 0]);
    case.weights[0] = vec![(2, u16::MAX)];
    case.bonds[0] = vec![(1, u16::MAX), (2, u16::MAX)];
    case.registered = vec![0, 80, 0];
    case.last_update[0] = 90; // validator updated after uid 1 re-registered: keep
    let kept = case.run::<I32F32>();
    assert_eq!(kept.bonds[0], vec![(1, u16::MAX), (2, u16::MAX)]);
    case.params.rules.bonds_mask = BondsMask::RegisteredSince(80); // registered at ≥ 80: drop
    let dropped = case.run::<I32F32>();
    assert_eq!(dropped.bonds[0], vec![(2, u16::MAX)]);
}

#[test]
fn bond_rows_follow_permits() {
    let mut case = Case::new(&[100, 50, 1]);
    case.params.max_allowed_validators = 1;
    case.permits = vec![true, true, false];
    case.bonds = vec![vec![], vec![(0, 9)], vec![(1, 7)]];
    let out = case.run::<f64>();
    assert_eq!(out.validator_permit, vec![true, false, false]);
    assert_eq!(out.bonds[1], Vec::<(u16, u16)>::new()); // lost its permit: cleared
    assert_eq!(out.bonds[2], vec![(1, 7)]); // never permitted: left as stored
}

/// Deterministic pseudo-random subnets: conservation, normalisation, and f64 vs I32F32.
#[test]
fn random_subnets_properties() {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    for trial in 0..40 {
        let n = 2 + next(40) as usize;
        let stake: Vec<u64> =
            (0..n).map(|_| if next(3) == 0 { 0 } else { next(1_000_000_000_000) }).collect();
        let mut case = Case::new(&stake);
        case.params.bonds_penalty = u16::MAX;
        case.emission = 1 + next(10_000_000_000);
        for i in 0..n {
            let sets_weights = next(2) == 0;
            for j in 0..n as u16 {
                if sets_weights && next(3) == 0 {
                    case.weights[i].push((j, next(65_536) as u16));
                }
                if next(4) == 0 {
                    case.bonds[i].push((j, next(65_536) as u16));
                }
            }
        }
        let fixed = case.run::<I32F32>();
        let float = case.run::<f64>();
        for out in [&fixed, &float] {
            assert_lengths(out, n);
            let paid = total(out);
            assert!(
                paid <= case.emission && paid + 2 * n as u64 >= case.emission || paid == 0,
                "trial {trial}: {paid}"
            );
            let incentive: u64 = out.incentive.iter().map(|&v| u64::from(v)).sum();
            if incentive > 0 {
                assert!(incentive <= 65_535 && incentive + n as u64 >= 65_535, "trial {trial}: {incentive}");
            }
        }
        for (a, b) in fixed.incentive.iter().zip(&float.incentive) {
            assert!(a.abs_diff(*b) <= 2, "trial {trial}: incentive {a} vs {b}");
        }
        for (a, b) in fixed.emission.iter().zip(&float.emission) {
            assert!(a.abs_diff(*b) <= case.emission / 100_000 + 2, "trial {trial}: emission {a} vs {b}");
        }
    }
}
