//! Reorgs in `--unfinalized` mode: where our indexed chain and the node's canonical chain part
//! ways. A pure function over (number, hash) pairs, so the window logic is tested on its own.

/// The highest block both chains share, given our recent blocks and the node's canonical hash
/// at each of those heights (`None` where the node has no block). Both lists are by number;
/// only heights present in both are compared. `None` means no common block in the window.
pub fn fork_point(ours: &[(u64, [u8; 32])], theirs: &[(u64, Option<[u8; 32]>)]) -> Option<u64> {
    let mut common = None;
    for (n, hash) in ours {
        match theirs.iter().find(|(m, _)| m == n) {
            Some((_, Some(h))) if h == hash => common = common.max(Some(*n)),
            _ => {}
        }
    }
    // Everything above the lowest divergence is suspect even if hashes happen to match again.
    let first_divergence = ours
        .iter()
        .filter(|(n, hash)| theirs.iter().any(|(m, h)| m == n && h.as_ref() != Some(hash)))
        .map(|(n, _)| *n)
        .min();
    match (common, first_divergence) {
        (Some(c), Some(d)) if c >= d => ours.iter().map(|(n, _)| *n).filter(|n| *n < d).max(),
        (c, _) => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(x: u8) -> [u8; 32] {
        [x; 32]
    }

    #[test]
    fn no_reorg_keeps_the_tip() {
        let ours = [(5, h(5)), (6, h(6)), (7, h(7))];
        let theirs = [(5, Some(h(5))), (6, Some(h(6))), (7, Some(h(7)))];
        assert_eq!(fork_point(&ours, &theirs), Some(7));
    }

    #[test]
    fn a_reorg_of_two_rolls_back_to_the_common_ancestor() {
        let ours = [(5, h(5)), (6, h(6)), (7, h(7))];
        let theirs = [(5, Some(h(5))), (6, Some(h(60))), (7, Some(h(70)))];
        assert_eq!(fork_point(&ours, &theirs), Some(5));
    }

    #[test]
    fn a_shorter_new_branch_counts_missing_blocks_as_divergent() {
        let ours = [(5, h(5)), (6, h(6)), (7, h(7))];
        let theirs = [(5, Some(h(5))), (6, Some(h(61))), (7, None)];
        assert_eq!(fork_point(&ours, &theirs), Some(5));
    }

    #[test]
    fn a_coincidental_match_above_a_divergence_is_not_trusted() {
        let ours = [(5, h(5)), (6, h(6)), (7, h(7))];
        let theirs = [(5, Some(h(5))), (6, Some(h(66))), (7, Some(h(7)))];
        assert_eq!(fork_point(&ours, &theirs), Some(5));
    }

    #[test]
    fn a_reorg_deeper_than_the_window_has_no_fork_point() {
        let ours = [(5, h(5)), (6, h(6))];
        let theirs = [(5, Some(h(50))), (6, Some(h(60)))];
        assert_eq!(fork_point(&ours, &theirs), None);
    }
}
