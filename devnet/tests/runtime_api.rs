//! `SubnetInfoRuntimeApi_get_all_dynamic_info` through subxt: decoded with the V15 metadata's
//! output type of each runtime, its values equal storage at the queried block.

use std::sync::Arc;

use parity_scale_codec::Decode;
use subxt::dynamic::Value;
use subxt::ext::scale_value::{Composite, Primitive, ValueDef};
use subxt::{OnlineClient, SubstrateConfig};
use taoscope_devnet::runtime::storage::items;
use taoscope_devnet::{Devnet, DevnetConfig};

const SUBNETS: u16 = 4;
const UPGRADE_AT: u32 = 20;

fn num(v: &Value<()>) -> u128 {
    match &v.value {
        ValueDef::Primitive(Primitive::U128(n)) => *n,
        ValueDef::Primitive(Primitive::I128(n)) => *n as u128,
        ValueDef::Composite(c) => c.values().next().map(num).unwrap_or(0),
        other => panic!("not a number: {other:?}"),
    }
}

fn bytes(v: &Value<()>) -> Vec<u8> {
    match &v.value {
        ValueDef::Primitive(Primitive::U128(n)) => vec![*n as u8],
        ValueDef::Composite(c) => c.values().flat_map(bytes).collect(),
        other => panic!("not bytes: {other:?}"),
    }
}

fn field<'a>(v: &'a Value<()>, name: &str) -> &'a Value<()> {
    match &v.value {
        ValueDef::Composite(Composite::Named(fields)) => {
            &fields.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no field {name}")).1
        }
        other => panic!("not a struct: {other:?}"),
    }
}

/// The `Some` payload of an `Option`, or `None`.
fn some(v: &Value<()>) -> Option<&Value<()>> {
    match &v.value {
        ValueDef::Variant(var) if var.name == "Some" => var.values.values().next(),
        ValueDef::Variant(var) if var.name == "None" => None,
        other => panic!("not an Option: {other:?}"),
    }
}

fn stored<T: Decode + Default>(devnet: &Devnet, key: Vec<u8>, n: u32) -> T {
    devnet.chain().storage(&key, n).map(|v| T::decode(&mut &v[..]).unwrap()).unwrap_or_default()
}

async fn check_block(api: &OnlineClient<SubstrateConfig>, devnet: &Arc<Devnet>, n: u32) -> usize {
    let at = api.at_block(u64::from(n)).await.unwrap();
    let payload =
        subxt::dynamic::runtime_api_call::<(), Value<()>>("SubnetInfoRuntimeApi", "get_all_dynamic_info", ());
    let all = at.runtime_apis().call(payload).await.expect("decodes with the metadata's output type");
    let ValueDef::Composite(entries) = &all.value else { panic!("not a sequence") };
    let entries: Vec<&Value<()>> = entries.values().collect();
    let spec = devnet.chain().block(n).unwrap().spec.spec_version();
    for (netuid, entry) in entries.iter().enumerate() {
        let netuid = netuid as u16;
        let info = some(entry).expect("every netuid up to the highest exists");
        let item = |i: &taoscope_devnet::runtime::storage::Map<u16, u64>| -> u128 {
            u128::from(stored::<u64>(devnet, i.key(&netuid), n))
        };
        assert_eq!(num(field(info, "netuid")), u128::from(netuid));
        assert_eq!(num(field(info, "tao_in")), item(&items::SUBNET_TAO), "block {n} netuid {netuid}");
        assert_eq!(num(field(info, "alpha_in")), item(&items::SUBNET_ALPHA_IN));
        assert_eq!(num(field(info, "alpha_out")), item(&items::SUBNET_ALPHA_OUT));
        assert_eq!(num(field(info, "tao_in_emission")), item(&items::SUBNET_TAO_IN_EMISSION));
        assert_eq!(num(field(info, "alpha_in_emission")), item(&items::SUBNET_ALPHA_IN_EMISSION));
        assert_eq!(num(field(info, "alpha_out_emission")), item(&items::SUBNET_ALPHA_OUT_EMISSION));
        assert_eq!(num(field(info, "network_registered_at")), item(&items::NETWORK_REGISTERED_AT));
        let last_step = item(&items::LAST_MECHANISM_STEP_BLOCK);
        assert_eq!(num(field(info, "last_step")), last_step);
        assert_eq!(num(field(info, "blocks_since_last_step")), u128::from(n) - last_step);
        let pending = if spec == 233 {
            item(&items::PENDING_EMISSION)
        } else {
            item(&items::PENDING_SERVER_EMISSION) + item(&items::PENDING_VALIDATOR_EMISSION)
        };
        assert_eq!(num(field(info, "pending_alpha_emission")), pending, "block {n} netuid {netuid}");
        let volume: u128 = stored(devnet, items::SUBNET_VOLUME.key(&netuid), n);
        assert_eq!(num(field(info, "subnet_volume")), volume);
        let price =
            devnet.chain().storage(&items::SUBNET_MOVING_PRICE.key(&netuid), n).unwrap_or(vec![0; 16]);
        assert_eq!(
            num(field(field(info, "moving_price"), "bits")),
            u128::from_le_bytes(price.try_into().unwrap())
        );
        let owner = devnet.chain().storage(&items::SUBNET_OWNER.key(&netuid), n).unwrap();
        assert_eq!(bytes(field(info, "owner_coldkey")), owner);
        let tempo: u16 = stored(devnet, items::TEMPO.key(&netuid), n);
        assert_eq!(num(field(info, "tempo")), u128::from(tempo));
        let name = String::from_utf8(bytes(field(info, "subnet_name"))).unwrap();
        assert_eq!(name, if netuid == 0 { "root".to_string() } else { format!("sn{netuid}") });
        assert!(some(field(info, "subnet_identity")).is_none());
        if netuid > 0 && n > 5 {
            assert!(num(field(info, "tao_in")) > 0, "live subnet {netuid} has a pool at {n}");
        }
    }
    entries.len()
}

#[tokio::test]
async fn all_dynamic_info_decodes_with_each_runtimes_metadata_and_matches_storage() {
    let cfg = DevnetConfig {
        subnets: SUBNETS,
        prebuilt: 40,
        seed: 3,
        upgrade_at: Some(UPGRADE_AT),
        tempo: 9,
        ..DevnetConfig::default()
    };
    let devnet = Devnet::new(cfg).unwrap();
    let server = taoscope_devnet::serve(devnet.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let api = OnlineClient::<SubstrateConfig>::from_insecure_url(server.ws_url()).await.unwrap();
    assert_eq!(check_block(&api, &devnet, 0).await, 1, "genesis: root only");
    for n in [1, 2, 12, UPGRADE_AT - 1, UPGRADE_AT, UPGRADE_AT + 1, 33, 40] {
        assert_eq!(check_block(&api, &devnet, n).await, 1 + SUBNETS as usize, "block {n}");
    }

    // One subnet, and the raw bytes decode with the devnet's own types too.
    let at = api.at_block(30u64).await.unwrap();
    let one =
        subxt::dynamic::runtime_api_call::<_, Value<()>>("SubnetInfoRuntimeApi", "get_dynamic_info", (2u16,));
    let info = at.runtime_apis().call(one).await.unwrap();
    assert_eq!(num(field(some(&info).unwrap(), "netuid")), 2);
    let raw = at.runtime_apis().call_raw("SubnetInfoRuntimeApi_get_all_dynamic_info", None).await.unwrap();
    let decoded =
        Vec::<Option<taoscope_devnet::runtime::apis::DynamicInfo343>>::decode(&mut &raw[..]).unwrap();
    assert_eq!(decoded.len(), 1 + SUBNETS as usize);
    let tao: u64 = stored(&devnet, items::SUBNET_TAO.key(&3), 30);
    assert_eq!(decoded[3].as_ref().unwrap().tao_in, tao);
    let missing =
        at.runtime_apis().call_raw("SubnetInfoRuntimeApi_get_dynamic_info", Some(&[99, 0])).await.unwrap();
    assert_eq!(missing, vec![0], "None for a netuid that does not exist");
    server.stop().await;
}
