//! Oracle: subtensor's `test_bonds` (`pallets/subtensor/src/tests/epoch.rs`, v2.0.0 L996 and HEAD
//! L1005; same assertions in both). Eight uids, stake [1, 2, 3, 4, 0, 0, 0, 0], validators 0–3
//! weight servers 4–7 with [¼, ½, ¾, 1]·65535, then one by one switch to self-weights; bonds
//! penalty 65535, everything else default; epoch emission 1e9 rao.
//!
//! The test's trace comments print the combined emission `E` of every epoch and it asserts four
//! stored bond values per epoch. The fixed-point epoch must reproduce both exactly; the `f64`
//! epoch within a few units.

use taoscope_math::yuma::{EpochInput, EpochOutput, I32F32, Scalar, YumaParams, epoch, epoch_with};

const N: usize = 8;
const EMISSION: u64 = 1_000_000_000;

/// Subnet state carried from one epoch to the next, as the pallet stores it.
struct Subnet {
    block: u64,
    weights: Vec<Vec<(u16, u16)>>,
    bonds: Vec<Vec<(u16, u16)>>,
    last_update: Vec<u64>,
    permits: Vec<bool>,
}

impl Subnet {
    fn new() -> Self {
        Self {
            block: 0,
            weights: vec![Vec::new(); N],
            bonds: vec![Vec::new(); N],
            last_update: vec![0; N],
            permits: vec![false; N],
        }
    }

    fn set_weights(&mut self, uid: usize, row: &[(u16, u16)]) {
        self.weights[uid] = row.to_vec();
        self.last_update[uid] = self.block;
    }

    fn epoch<S: Scalar>(&mut self) -> EpochOutput {
        let stake = [1, 2, 3, 4, 0, 0, 0, 0];
        let params =
            YumaParams { bonds_penalty: u16::MAX, max_allowed_validators: N as u16, ..YumaParams::V2_0_0 };
        let input = EpochInput {
            current_block: self.block,
            stake: &stake,
            weights: &self.weights,
            bonds: &self.bonds,
            last_update: &self.last_update,
            block_at_registration: &[0; N],
            validator_permit: &self.permits,
            params,
            emission: EMISSION,
        };
        let out = epoch_with::<S>(&input);
        self.bonds = out.bonds.clone();
        self.permits = out.validator_permit.clone();
        out
    }
}

/// One epoch of the test: what changes before it, the traced `E`, and the asserted bonds
/// (`column`, values for validators 0–3).
struct Step {
    change: fn(&mut Subnet),
    emission: [u64; N],
    bond_column: usize,
    bonds: [u16; 4],
}

const SERVER_WEIGHTS: [(u16, u16); 4] = [(4, 16_383), (5, 32_767), (6, 49_149), (7, 65_535)];

fn steps() -> Vec<Step> {
    vec![
        Step {
            change: |s| (0..4).for_each(|uid| s.set_weights(uid, &SERVER_WEIGHTS)),
            emission: [
                49_999_998,
                99_999_999,
                150_000_000,
                200_000_001,
                49_998_779,
                100_000_610,
                149_996_337,
                200_004_272,
            ],
            bond_column: 4,
            bonds: [16_383, 32_767, 49_151, 65_535],
        },
        Step {
            change: |s| s.set_weights(0, &[(0, u16::MAX)]),
            emission: [
                44_998_351,
                101_110_561,
                151_667_215,
                202_223_870,
                49_998_779,
                100_000_610,
                149_996_337,
                200_004_272,
            ],
            bond_column: 4,
            bonds: [14_582, 32_767, 49_151, 65_535],
        },
        Step {
            change: |s| s.set_weights(1, &[(1, u16::MAX)]),
            emission: [
                40_496_805,
                90_999_783,
                157_929_636,
                210_573_773,
                49_998_779,
                100_000_610,
                149_996_337,
                200_004_272,
            ],
            bond_column: 4,
            bonds: [12_603, 28_321, 49_151, 65_535],
        },
        Step {
            change: |s| s.set_weights(2, &[(2, u16::MAX)]),
            emission: [99_999_999, 199_999_999, 299_999_999, 399_999_999, 0, 0, 0, 0],
            bond_column: 7,
            bonds: [12_602, 28_320, 49_150, 65_535],
        },
        Step {
            change: |s| s.set_weights(2, &[(7, u16::MAX)]),
            emission: [36_443_733, 81_898_628, 163_565_493, 218_092_144, 0, 0, 0, 500_000_000],
            bond_column: 7,
            bonds: [10_951, 24_609, 49_150, 65_535],
        },
        Step {
            change: |_| {},
            emission: [32_799_427, 73_706_612, 168_638_129, 224_855_830, 0, 0, 0, 500_000_000],
            bond_column: 7,
            bonds: [9_559, 21_482, 49_150, 65_535],
        },
        Step {
            change: |_| {},
            emission: [29_518_068, 66_336_137, 173_203_134, 230_942_659, 0, 0, 0, 500_000_000],
            bond_column: 7,
            bonds: [8_376, 18_824, 49_150, 65_535],
        },
        Step {
            change: |_| {},
            emission: [26_565_175, 59_701_871, 177_311_856, 236_421_095, 0, 0, 0, 500_000_000],
            bond_column: 7,
            bonds: [0, 0, 0, 0], // not asserted by the chain test after this epoch
        },
    ]
}

fn bond(out: &EpochOutput, row: usize, column: usize) -> u16 {
    out.bonds[row].iter().find(|(j, _)| usize::from(*j) == column).map_or(0, |&(_, v)| v)
}

/// Runs the whole scenario in `S`, handing each epoch's output and step to `check`.
fn run<S: Scalar>(mut check: impl FnMut(usize, &EpochOutput, &Step)) {
    let mut subnet = Subnet::new();
    // Epoch at block 0 hands out validator permits; nothing else happens.
    let first = subnet.epoch::<S>();
    assert_eq!(first.validator_permit, vec![true; N]);
    assert!(first.bonds.iter().all(Vec::is_empty));
    subnet.block = 1;
    for (k, step) in steps().iter().enumerate() {
        (step.change)(&mut subnet);
        let out = subnet.epoch::<S>();
        check(k, &out, step);
        subnet.block += 1;
    }
}

#[test]
fn fixed_point_epoch_reproduces_test_bonds_exactly() {
    run::<I32F32>(|k, out, step| {
        assert_eq!(out.emission, step.emission, "E at epoch {k}");
        if step.bonds != [0; 4] {
            let got: Vec<u16> = (0..4).map(|i| bond(out, i, step.bond_column)).collect();
            assert_eq!(got, step.bonds, "bonds[·][{}] at epoch {k}", step.bond_column);
        }
        let split: u64 = out.server_emission.iter().chain(&out.validator_emission).sum();
        assert!(split <= EMISSION && split + 16 >= EMISSION, "epoch {k}: {split}");
    });
}

#[test]
fn float_epoch_matches_test_bonds_closely() {
    run::<f64>(|k, out, step| {
        for (uid, (&got, &want)) in out.emission.iter().zip(&step.emission).enumerate() {
            // 1e-5 of the epoch emission (observed: ≤ 2_074 rao, from the chain's u16 bond truncation).
            let tolerance = EMISSION / 100_000;
            assert!(got.abs_diff(want) <= tolerance, "E[{uid}] at epoch {k}: {got} vs {want}");
        }
        if step.bonds != [0; 4] {
            for (i, &want) in step.bonds.iter().enumerate() {
                let got = bond(out, i, step.bond_column);
                // Stored bonds are truncated u16 proportions: f64 drifts by at most one unit.
                assert!(
                    got.abs_diff(want) <= 1,
                    "bonds[{i}][{}] at epoch {k}: {got} vs {want}",
                    step.bond_column
                );
            }
        }
        if k == 0 {
            // The first epoch is exact in f64 too.
            let got: Vec<u16> = (0..4).map(|i| bond(out, i, 4)).collect();
            assert_eq!(got, step.bonds);
        }
    });
}

/// The traced normalised vectors of the epoch at block 5 (validator 2 moved to server 7).
#[test]
fn float_epoch_trace_at_block_5() {
    let mut seen = false;
    run::<f64>(|k, out, _| {
        if k != 4 {
            return;
        }
        seen = true;
        let p = |v: u16| f64::from(v) / 65_535.0;
        assert_eq!(out.incentive, vec![0, 0, 0, 0, 0, 0, 0, 65_535]);
        assert!((p(out.consensus[7]) - 0.400_008_545).abs() < 1e-4);
        let trust = [0.0, 0.0, 0.400_008_545, 0.400_008_545];
        for (i, t) in trust.iter().enumerate() {
            assert!((p(out.validator_trust[i]) - t).abs() < 1e-4, "Tv[{i}]");
        }
        assert!((p(out.trust[7]) - 0.608_704_132_3).abs() < 1e-4);
        let dividends = [0.072_887_466_3, 0.163_797_258_2, 0.327_130_986_6, 0.436_184_288_5];
        for (i, d) in dividends.iter().enumerate() {
            assert!((p(out.dividends[i]) - d).abs() < 1e-4, "D[{i}]");
        }
    });
    assert!(seen);
}

#[test]
fn default_entry_point_is_the_float_epoch() {
    let stake = [5, 5];
    let input = EpochInput {
        current_block: 10,
        stake: &stake,
        weights: &[vec![(1, 65_535)], vec![]],
        bonds: &[],
        last_update: &[10, 10],
        block_at_registration: &[0, 0],
        validator_permit: &[true, true],
        params: YumaParams::V2_0_0,
        emission: 1_000,
    };
    assert_eq!(epoch(&input), epoch_with::<f64>(&input));
}
