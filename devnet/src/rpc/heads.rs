//! Head subscriptions (`chain_subscribeNewHeads`, `…FinalizedHeads`, `…AllHeads`, runtime
//! versions). Each block is sent once, in order; after a fork the new branch is sent from the
//! first replaced height on, as a node announces the blocks of a reorganisation.

use std::collections::VecDeque;
use std::sync::Arc;

use jsonrpsee::server::RpcModule;
use jsonrpsee::{PendingSubscriptionSink, SubscriptionMessage};
use serde_json::value::RawValue;

use super::RpcState;
use crate::runtime::RuntimeVersionJson;

/// Which heads a subscription follows.
#[derive(Clone, Copy)]
enum Heads {
    Best,
    Finalized,
    RuntimeVersion,
}

/// Hashes sent lately, to notice a reorganisation (forks are shallower than this).
const REMEMBERED: usize = 256;

/// Streams heads to `pending` from the current one on.
async fn follow(pending: PendingSubscriptionSink, state: Arc<RpcState>, heads: Heads) {
    let Ok(sink) = pending.accept().await else { return };
    let devnet = &state.devnet;
    let mut best = devnet.subscribe();
    let mut next: Option<u32> = None;
    let mut sent: VecDeque<(u32, [u8; 32])> = VecDeque::new();
    let mut last_spec = None;
    loop {
        let messages: Vec<Box<RawValue>> = {
            let chain = devnet.chain();
            let tip = match heads {
                Heads::Finalized => chain.finalized(),
                Heads::Best | Heads::RuntimeVersion => chain.best(),
            };
            let mut from = next.unwrap_or(tip.header.number);
            // A block sent that is no longer canonical: resend the new branch from the fork point
            // (found through the abandoned block's ancestors, which the chain keeps).
            while let Some(&(n, hash)) = sent.back() {
                if chain.block(n).is_some_and(|b| b.hash == hash) {
                    break;
                }
                sent.pop_back();
                let mut abandoned = chain.block_by_hash(&hash);
                while let Some(b) = abandoned.filter(|b| !chain.has_state(b)) {
                    from = from.min(b.header.number);
                    abandoned = chain.block_by_hash(&b.header.parent_hash.0);
                }
            }
            next = Some(tip.header.number + 1);
            match heads {
                Heads::RuntimeVersion => {
                    let spec = tip.spec;
                    if last_spec == Some(spec) {
                        vec![]
                    } else {
                        last_spec = Some(spec);
                        let v = RuntimeVersionJson::from(&spec.version());
                        vec![serde_json::value::to_raw_value(&v).expect("json")]
                    }
                }
                _ => (from..=tip.header.number)
                    .filter_map(|n| chain.block(n))
                    .map(|b| {
                        sent.push_back((b.header.number, b.hash));
                        if sent.len() > REMEMBERED {
                            sent.pop_front();
                        }
                        b.header_json()
                    })
                    .collect(),
            }
        };
        for raw in messages {
            if sink.send(SubscriptionMessage::from(raw)).await.is_err() {
                return;
            }
        }
        tokio::select! {
            changed = best.changed() => if changed.is_err() { return },
            _ = sink.closed() => return,
        }
    }
}

/// Registers the head subscriptions.
pub(super) fn register(m: &mut RpcModule<Arc<RpcState>>) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    let subs: [(&'static str, &'static str, &'static str, Heads); 8] = [
        ("chain_subscribeNewHeads", "chain_newHead", "chain_unsubscribeNewHeads", Heads::Best),
        ("chain_subscribeNewHead", "chain_newHead", "chain_unsubscribeNewHead", Heads::Best),
        ("subscribe_newHead", "chain_newHead", "unsubscribe_newHead", Heads::Best),
        ("chain_subscribeAllHeads", "chain_allHead", "chain_unsubscribeAllHeads", Heads::Best),
        (
            "chain_subscribeFinalizedHeads",
            "chain_finalizedHead",
            "chain_unsubscribeFinalizedHeads",
            Heads::Finalized,
        ),
        (
            "chain_subscribeFinalisedHeads",
            "chain_finalisedHead",
            "chain_unsubscribeFinalisedHeads",
            Heads::Finalized,
        ),
        (
            "state_subscribeRuntimeVersion",
            "state_runtimeVersion",
            "state_unsubscribeRuntimeVersion",
            Heads::RuntimeVersion,
        ),
        (
            "chain_subscribeRuntimeVersion",
            "chain_runtimeVersion",
            "chain_unsubscribeRuntimeVersion",
            Heads::RuntimeVersion,
        ),
    ];
    for (sub, notif, unsub, heads) in subs {
        m.register_subscription(sub, notif, unsub, move |_, pending, state, _| async move {
            follow(pending, state.as_ref().clone(), heads).await;
        })?;
    }
    Ok(())
}
