//! SCALE types shared by the devnet's runtimes, shaped like their finney counterparts.
//!
//! The `TypeInfo` of each type is what ends up in the generated metadata, so shapes (field names,
//! variant names and indices, primitive widths) follow the real runtime exactly; the metadata
//! parity test compares them with finney's own metadata.

use std::marker::PhantomData;

use parity_scale_codec::{Decode, Encode, HasCompact};
use scale_info::build::{Fields, Variants};
use scale_info::{Path, Type, TypeInfo, TypeParameter};

/// A 32-byte account id (`sp_core::crypto::AccountId32`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Encode, Decode, TypeInfo)]
pub struct AccountId32(pub [u8; 32]);

/// A 32-byte hash (`primitive_types::H256`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Encode, Decode, TypeInfo)]
pub struct H256(pub [u8; 32]);

/// Declares a newtype whose metadata is its inner type, as subtensor's `NetUid`, `TaoCurrency`
/// and `AlphaCurrency` appear in finney metadata (a bare `u16`/`u64` with a type name).
macro_rules! transparent_newtype {
    ($(#[$doc:meta] $name:ident($inner:ty);)*) => {$(
        #[$doc]
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Encode, Decode)]
        pub struct $name(pub $inner);

        impl TypeInfo for $name {
            type Identity = <$inner as TypeInfo>::Identity;
            fn type_info() -> Type {
                <$inner as TypeInfo>::type_info()
            }
        }
    )*};
}

transparent_newtype! {
    /// A subnet id.
    NetUid(u16);
    /// `netuid + mechanism * 4096`; equal to the netuid for mechanism 0.
    NetUidStorageIndex(u16);
    /// An amount of TAO in rao.
    TaoCurrency(u64);
    /// An amount of alpha in its smallest unit.
    AlphaCurrency(u64);
}

/// `substrate_typenum::uint::UInt<U, B>`: a type-level unsigned integer (most significant bits
/// `U`, then bit `B`), the `Frac` parameter of substrate-fixed numbers. Encodes to nothing.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
pub struct UInt<U: TypeInfo + 'static, B: TypeInfo + 'static> {
    /// The higher bits.
    pub msb: U,
    /// The lowest bit.
    pub lsb: B,
}

/// `substrate_typenum::uint::UTerm`: zero.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
pub struct UTerm;

/// `substrate_typenum::bit::B0`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
pub struct B0;

/// `substrate_typenum::bit::B1`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
pub struct B1;

/// 32 (0b100000) as a type.
pub type U32 = UInt<UInt<UInt<UInt<UInt<UInt<UTerm, B1>, B0>, B0>, B0>, B0>, B0>;
/// 64 as a type.
pub type U64 = UInt<U32, B0>;

/// `substrate_fixed::FixedI128<Frac>`: value = bits / 2^Frac.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
pub struct FixedI128<Frac: TypeInfo + 'static> {
    /// The raw bits.
    pub bits: i128,
    frac: PhantomData<Frac>,
}

/// `substrate_fixed::FixedU128<Frac>`: value = bits / 2^Frac.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
pub struct FixedU128<Frac: TypeInfo + 'static> {
    /// The raw bits.
    pub bits: u128,
    frac: PhantomData<Frac>,
}

/// I96F32 (`SubnetMovingPrice`, `SubnetMovingAlpha`).
pub type I96F32 = FixedI128<U32>;
/// U64F64 (`Alpha` shares, `TotalHotkeyShares`, `AlphaSqrtPrice`).
pub type U64F64 = FixedU128<U64>;

impl<Frac: TypeInfo + 'static> FixedI128<Frac> {
    /// From raw bits.
    pub fn from_bits(bits: i128) -> Self {
        FixedI128 { bits, frac: PhantomData }
    }
}

impl<Frac: TypeInfo + 'static> FixedU128<Frac> {
    /// From raw bits.
    pub fn from_bits(bits: u128) -> Self {
        FixedU128 { bits, frac: PhantomData }
    }
}

/// Uniswap-v3 style tick index of the Swap pallet.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
pub struct TickIndex(pub i32);

/// `sp_runtime::generic::DigestItem`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum DigestItem {
    /// A message from consensus to the runtime (Aura's slot).
    #[codec(index = 6)]
    PreRuntime([u8; 4], Vec<u8>),
    /// A message from the runtime to consensus.
    #[codec(index = 4)]
    Consensus([u8; 4], Vec<u8>),
    /// A seal (the author's signature).
    #[codec(index = 5)]
    Seal([u8; 4], Vec<u8>),
    /// Arbitrary data.
    #[codec(index = 0)]
    Other(Vec<u8>),
    /// The runtime changed (`:code` was set).
    #[codec(index = 8)]
    RuntimeEnvironmentUpdated,
}

/// `sp_runtime::generic::Digest` (`System.Digest`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Digest {
    /// The items.
    pub logs: Vec<DigestItem>,
}

/// `sp_runtime::generic::Header<u32, BlakeTwo256>`: the block header as encoded and hashed.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Header {
    /// Hash of the parent header.
    pub parent_hash: H256,
    /// Block number.
    #[codec(compact)]
    pub number: u32,
    /// Root of the post-state.
    pub state_root: H256,
    /// Root of the extrinsics.
    pub extrinsics_root: H256,
    /// Digest logs.
    pub digest: Digest,
}

/// `sp_runtime::generic::Block<Header, Extrinsic>` (the `Core_execute_block` argument).
#[derive(TypeInfo)]
pub struct Block<Extrinsic: TypeInfo + 'static> {
    /// The header.
    pub header: Header,
    /// The extrinsics.
    pub extrinsics: Vec<Extrinsic>,
}

/// `frame_system::Phase`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum Phase {
    /// Applying the extrinsic at this index.
    ApplyExtrinsic(u32),
    /// `on_finalize`.
    Finalization,
    /// `on_initialize`.
    Initialization,
}

/// `sp_weights::Weight`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
pub struct Weight {
    /// Computation time.
    #[codec(compact)]
    pub ref_time: u64,
    /// Proof size.
    #[codec(compact)]
    pub proof_size: u64,
}

/// `frame_support::dispatch::DispatchClass`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum DispatchClass {
    /// User transactions.
    Normal,
    /// Operational transactions.
    Operational,
    /// Inherents.
    Mandatory,
}

/// `frame_support::dispatch::Pays`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum Pays {
    /// Pays a fee.
    Yes,
    /// Free.
    No,
}

/// `DispatchInfo` (spec 233) / `DispatchEventInfo` (spec 343): the same shape.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct DispatchInfo {
    /// Weight of the call.
    pub weight: Weight,
    /// Its class.
    pub class: DispatchClass,
    /// Whether it paid a fee.
    pub pays_fee: Pays,
}

/// `sp_runtime::ModuleError`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct ModuleError {
    /// Pallet index.
    pub index: u8,
    /// Error variant index and padding.
    pub error: [u8; 4],
}

/// `sp_runtime::TokenError`.
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum TokenError {
    FundsUnavailable,
    OnlyProvider,
    BelowMinimum,
    CannotCreate,
    UnknownAsset,
    Frozen,
    Unsupported,
    CannotCreateHold,
    NotExpendable,
    Blocked,
}

/// `sp_arithmetic::ArithmeticError`.
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum ArithmeticError {
    Underflow,
    Overflow,
    DivisionByZero,
}

/// `sp_runtime::TransactionalError`.
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum TransactionalError {
    LimitReached,
    NoLayer,
}

/// `sp_runtime::proving_trie::TrieError` (spec 343's `DispatchError::Trie`).
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum TrieError {
    InvalidStateRoot,
    IncompleteDatabase,
    ValueAtIncompleteKey,
    DecoderError,
    InvalidHash,
    DuplicateKey,
    ExtraneousNode,
    ExtraneousValue,
    ExtraneousHashReference,
    InvalidChildReference,
    ValueMismatch,
    IncompleteProof,
    RootMismatch,
    DecodeError,
}

/// `sp_runtime::DispatchError` as of spec 233 (no `Trie` variant yet).
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum DispatchError233 {
    Other,
    CannotLookup,
    BadOrigin,
    Module(ModuleError),
    ConsumerRemaining,
    NoProviders,
    TooManyConsumers,
    Token(TokenError),
    Arithmetic(ArithmeticError),
    Transactional(TransactionalError),
    Exhausted,
    Corruption,
    Unavailable,
    RootNotAllowed,
}

/// `sp_runtime::DispatchError` as of spec 343 (gained `Trie`).
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum DispatchError343 {
    Other,
    CannotLookup,
    BadOrigin,
    Module(ModuleError),
    ConsumerRemaining,
    NoProviders,
    TooManyConsumers,
    Token(TokenError),
    Arithmetic(ArithmeticError),
    Transactional(TransactionalError),
    Exhausted,
    Corruption,
    Unavailable,
    RootNotAllowed,
    Trie(TrieError),
}

/// `pallet_balances::AccountData<Balance>`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
pub struct AccountData<Balance: TypeInfo + 'static> {
    /// Spendable balance.
    pub free: Balance,
    /// Reserved balance.
    pub reserved: Balance,
    /// Frozen balance.
    pub frozen: Balance,
    /// Account flags.
    pub flags: ExtraFlags,
}

/// `pallet_balances::ExtraFlags`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
pub struct ExtraFlags(pub u128);

/// `frame_system::AccountInfo<Nonce, AccountData>`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
pub struct AccountInfo<Nonce: TypeInfo + 'static, AccountData: TypeInfo + 'static> {
    /// Number of transactions sent.
    pub nonce: Nonce,
    /// Consumer references.
    pub consumers: u32,
    /// Provider references.
    pub providers: u32,
    /// Sufficient references.
    pub sufficients: u32,
    /// Balances.
    pub data: AccountData,
}

/// Subtensor's `AccountInfo<u32, AccountData<u64>>` (`System.Account`).
pub type SubtensorAccountInfo = AccountInfo<u32, AccountData<u64>>;

/// `frame_system::LastRuntimeUpgradeInfo` as of spec 233 (`spec_name: RuntimeString`).
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
pub struct LastRuntimeUpgradeInfo233 {
    /// The spec version.
    #[codec(compact)]
    pub spec_version: u32,
    /// The spec name.
    pub spec_name: String,
}

/// `Cow<'static, str>` as it appears in spec 343 metadata: `Cow<T = str>`, a composite around
/// `str` (encoded as a string).
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode)]
pub struct Cow(pub String);

impl TypeInfo for Cow {
    type Identity = Self;
    fn type_info() -> Type {
        Type::builder()
            .path(Path::from_segments(["Cow"]).expect("valid path"))
            .type_params([TypeParameter::new("T", Some(scale_info::meta_type::<str>()))])
            .composite(Fields::unnamed().field(|f| f.ty::<str>()))
    }
}

/// `Cow<'static, T>` for any `T` as finney's metadata shows it (a composite named `Cow` around
/// `T`); metadata only, the value encodes as `T`.
pub struct CowOf<T: TypeInfo + 'static>(PhantomData<T>);

impl<T: TypeInfo + 'static> TypeInfo for CowOf<T> {
    type Identity = Self;
    fn type_info() -> Type {
        Type::builder()
            .path(Path::from_segments(["Cow"]).expect("valid path"))
            .type_params([TypeParameter::new("T", Some(scale_info::meta_type::<T>()))])
            .composite(Fields::unnamed().field(|f| f.ty::<T>()))
    }
}

/// `frame_system::LastRuntimeUpgradeInfo` as of spec 343 (`spec_name: Cow<'static, str>`).
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, TypeInfo)]
pub struct LastRuntimeUpgradeInfo343 {
    /// The spec version.
    #[codec(compact)]
    pub spec_version: u32,
    /// The spec name.
    pub spec_name: Cow,
}

/// `sp_runtime::multiaddress::MultiAddress<AccountId, AccountIndex>`.
#[allow(missing_docs)]
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum MultiAddress<AccountId: TypeInfo + 'static, AccountIndex: TypeInfo + HasCompact + 'static> {
    Id(AccountId),
    Index(#[codec(compact)] AccountIndex),
    Raw(Vec<u8>),
    Address32([u8; 32]),
    Address20([u8; 20]),
}

/// Subtensor's address type: `MultiAddress<AccountId32, ()>`.
pub type Address = MultiAddress<AccountId32, ()>;

/// `sp_runtime::MultiSignature`.
#[allow(missing_docs)]
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum MultiSignature {
    Ed25519([u8; 64]),
    Sr25519([u8; 64]),
    Ecdsa([u8; 65]),
}

/// `sp_runtime::generic::era::Era`: `Immortal` or `MortalN(u8)` for N in 1..=255 (the period
/// and phase packed into two bytes).
pub struct Era;

impl TypeInfo for Era {
    type Identity = Self;
    fn type_info() -> Type {
        // Variant names must be `&'static str`; build the 255 names once.
        static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
        let names = NAMES
            .get_or_init(|| (1..=255).map(|i| &*Box::leak(format!("Mortal{i}").into_boxed_str())).collect());
        let mut variants = Variants::new().variant("Immortal", |v| v.index(0));
        for (i, name) in (1..=255u8).zip(names) {
            variants =
                variants.variant(*name, |v| v.index(i).fields(Fields::unnamed().field(|f| f.ty::<u8>())));
        }
        Type::builder().path(Path::new("Era", "sp_runtime::generic::era")).variant(variants)
    }
}

/// `frame_metadata_hash_extension::Mode`.
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum MetadataHashMode {
    Disabled,
    Enabled,
}

/// The extrinsic envelope for V14 metadata, whose type parameters name the address, call,
/// signature and extra types (subxt reads them by these names).
#[derive(TypeInfo)]
pub struct UncheckedExtrinsic<Address, Call, Signature, Extra>(
    /// The opaque encoded extrinsic.
    pub Vec<u8>,
    PhantomData<(Address, Call, Signature, Extra)>,
)
where
    Address: TypeInfo + 'static,
    Call: TypeInfo + 'static,
    Signature: TypeInfo + 'static,
    Extra: TypeInfo + 'static;

/// The node runtime marker (`node_subtensor_runtime::Runtime`).
#[derive(TypeInfo)]
pub struct Runtime;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newtypes_encode_like_their_inner_type() {
        assert_eq!(NetUid(7).encode(), 7u16.encode());
        assert_eq!(TaoCurrency(5).encode(), 5u64.encode());
        assert_eq!(scale_info::meta_type::<NetUid>().type_id(), scale_info::meta_type::<u16>().type_id());
    }

    #[test]
    fn weight_is_compact() {
        let w = Weight { ref_time: 1, proof_size: 0 };
        assert_eq!(w.encode(), vec![4, 0]);
    }
}
