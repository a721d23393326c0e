use proptest::prelude::*;

use super::*;
use crate::InfoHash;

fn message() -> impl Strategy<Value = Message> {
    let triple = (any::<u32>(), any::<u32>(), any::<u32>());
    prop_oneof![
        Just(Message::KeepAlive),
        Just(Message::Choke),
        Just(Message::Unchoke),
        Just(Message::Interested),
        Just(Message::NotInterested),
        Just(Message::HaveAll),
        Just(Message::HaveNone),
        any::<u32>().prop_map(Message::Have),
        any::<u32>().prop_map(Message::SuggestPiece),
        any::<u32>().prop_map(Message::AllowedFast),
        any::<u16>().prop_map(Message::Port),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Message::Bitfield),
        triple.prop_map(|(index, begin, length)| Message::Request {
            index,
            begin,
            length
        }),
        triple.prop_map(|(index, begin, length)| Message::Cancel {
            index,
            begin,
            length
        }),
        triple.prop_map(|(index, begin, length)| Message::RejectRequest {
            index,
            begin,
            length
        }),
        (
            any::<u32>(),
            any::<u32>(),
            proptest::collection::vec(any::<u8>(), 0..600)
        )
            .prop_map(|(index, begin, data)| Message::Piece { index, begin, data }),
        (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..100))
            .prop_map(|(id, payload)| Message::Extended { id, payload }),
    ]
}

proptest! {
    /// Messages come back as sent, however the stream is cut into reads.
    #[test]
    fn messages_survive_any_chunking(
        messages in proptest::collection::vec(message(), 0..20),
        cuts in proptest::collection::vec(1usize..97, 1..10),
    ) {
        let bytes: Vec<u8> = messages.iter().flat_map(Message::to_bytes).collect();
        let mut decoder = Decoder::new();
        let mut got = Vec::new();
        let mut at = 0;
        for cut in cuts.iter().cycle() {
            if at >= bytes.len() {
                break;
            }
            let end = (at + cut).min(bytes.len());
            decoder.extend(&bytes[at..end]);
            at = end;
            while let Some(m) = decoder.next_message().unwrap() {
                got.push(m);
            }
        }
        prop_assert_eq!(got, messages);
        prop_assert_eq!(decoder.buffered(), 0);
    }

    /// Whatever a peer sends, decoding returns messages or an error, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut decoder = Decoder::new();
        decoder.extend(&bytes);
        while let Ok(Some(_)) = decoder.next_message() {}
    }
}

#[test]
fn an_overlong_length_is_refused_before_its_bytes_arrive() {
    let mut decoder = Decoder::new();
    decoder.extend(&(MAX_MESSAGE_BYTES + 1).to_be_bytes());
    assert_eq!(
        decoder.next_message(),
        Err(WireError::TooLong(MAX_MESSAGE_BYTES + 1))
    );
}

#[test]
fn a_request_of_the_wrong_length_is_refused() {
    let mut decoder = Decoder::new();
    decoder.extend(&[0, 0, 0, 5, 6, 0, 0, 0, 1]);
    assert_eq!(
        decoder.next_message(),
        Err(WireError::BadLength { id: 6, len: 4 })
    );
}

#[test]
fn handshake_round_trips_with_its_extension_bits() {
    let h = Handshake::new(InfoHash([7; 20]), *b"-P20001-abcdefghijkl").with_extensions();
    let bytes = h.encode();
    assert_eq!(&bytes[..20], b"\x13BitTorrent protocol");
    let back = Handshake::decode(&bytes).unwrap();
    assert_eq!(back, h);
    assert!(back.fast() && back.extended());
    let mut other = bytes;
    other[1] = b'b';
    assert_eq!(Handshake::decode(&other), Err(WireError::NotBitTorrent));
}
