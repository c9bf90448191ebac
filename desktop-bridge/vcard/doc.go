// Package vcard is a software PIV smart card: NIST SP 800-73-4 with the
// YubiKey extensions that piv-go v2 uses (GET VERSION, GET SERIAL, GET
// METADATA, ATTEST, SET MANAGEMENT KEY, SET PIN RETRIES, RESET, IMPORT KEY),
// and MOVE KEY (YubiKey 5.7), which the Desktop App's renewal uses through
// Card.MoveKey.
//
// It also implements vscard's own offline unblock (see below).
//
// A Card turns command APDUs into response APDUs (Transmit) and forgets its
// security state on Reset and PowerOff. desktop-bridge/vpcd attaches it to
// pcscd, after which every PC/SC program sees a PIV card: piv-go,
// yubico-piv-tool, OpenSC's PKCS#11 module and whatever uses that (browsers,
// ssh). The card reports version 5.7.1, so clients treat it as a current
// YubiKey: AES-192 default management key, metadata, attestation.
//
// Cards live in a directory, one file per card, "<serial>.card", written
// atomically (temporary file, fsync, rename, fsync of the directory) before
// the response to any command that changed the card is returned. A retry
// counter is decremented and written before the PIN or PUK is compared, and
// if the card cannot write its file it answers 6581 and keeps nothing of the
// command, so a full or read-only disk neither spares a counter nor tells a
// right PIN from a wrong one.
//
// # Offline unblock (vscard's extension)
//
// PIV has no command that unblocks a PIN without the PUK, so the card adds
// two of its own, in the proprietary class (CLA 80; no chaining), for the
// process unblock-pin-offline: a person whose computer cannot reach the server
// reads a challenge here, has the portal (on another device) compute the
// response from the card's management key, which the server holds, and types
// it here with a new PIN. Codes and MAC are package
// server/cardspec/unblockcode's, shared with the server.
//
//	GET UNBLOCK CHALLENGE  80 50 00 00 [Le]
//	  -> 12 ASCII symbols (Crockford base32, canonical), 9000. A new challenge
//	     replaces any outstanding one and is kept in the card file until used.
//	     6983: no tries left. 6700: data given. 6A86: P1/P2 not 00.
//	UNBLOCK PIN            80 52 00 00 14 <response: 12 ASCII symbols> <new PIN: 8 bytes, FF padded>
//	  -> 9000: the PIN is the new one with all its tries (the count the card
//	     was personalised with, the policy's), and the unblock tries are back.
//	     63Cx: wrong response, x unblock tries left. 6985: no challenge
//	     outstanding. 6983: no tries left. 6700: not 20 bytes. 6A80: the new
//	     PIN is malformed. 6A86: P1/P2 not 00.
//
// Every UNBLOCK PIN that gets past the format checks consumes the challenge,
// right or wrong, so a response works once; the try is decremented and
// written before the response is compared, as for the PIN. After three wrong
// responses the card issues no challenge until the PIN is unblocked with the
// PUK (Reset PIN), which gives the tries back. The response is bound to the
// challenge and to the card's serial, so another card's response fails.
//
// Create, Open, List and Delete manage the directory (DefaultDir is
// $XDG_DATA_HOME/vscard/cards). An open Card holds an exclusive lock on its
// file until Close, so two bridges cannot run the same card with diverging
// counters.
//
// # Threat model
//
// What is protected: the private keys of the card's slots and its
// attestation key, the PIN, the PUK, the management key and the PIN
// protected data objects (the YubiKey "printed information" object holds the
// PIN protected management key). These are the "secret part" of a card file
// and are sealed with AES-256-GCM by a KeyStore; the default one, MasterKey,
// keeps a random 32-byte key in its own file (mode 0600; a key file others
// may read is refused). The rest of the file (retry counters, algorithms and
// policies, certificates, CHUID, CCC) is readable but is the additional
// data of the same AES-GCM seal, so it cannot be changed without the key:
// an edited retry counter makes the card fail to open (ErrUnseal), and a
// card file opened with another key store fails the same way.
//
// Against what: a card file that leaves the machine without its key store
// (a backup, a synced folder, a copied home directory, a support bundle)
// reveals no key, PIN or PUK. A local process or user that cannot read the
// key file cannot use the card's keys except through the card, which means
// through PC/SC with the PIN, the retry counter and the PIN policy of the
// slot, like a hardware token.
//
// Not against: anyone who can read both the card file and the key file
// (the same user, root, malware running as the user) has the keys; the card
// is a software token, not a secure element, and its keys are as safe as the
// user's account. Such an attacker can also roll a card file back to an
// older copy, undoing retry counter decrements; the lock file stops a second
// honest process, not a malicious one. Memory is not locked or wiped: keys
// in RAM may reach swap or core dumps. The raw RSA operation uses math/big
// with blinding and a result check rather than constant-time code. Touch
// policies are stored and reported but cannot be enforced, as there is
// nothing to touch. pcscd exposes every card to every local process that
// may talk to it. The card listens for the vpcd driver on a loopback port
// only (vpcd's reversed mode, see package vpcd), so no other host can reach
// it or present a card of its own, and serves only root (pcscd) and its own
// user there.
//
// # TPM cards
//
// A card created with a TPM key store (OpenTPM, OpenTPMDevice: /dev/tpmrm0 on
// a desktop, a swtpm socket in tests) keeps its private keys and its PIN and
// PUK in the TPM 2.0; the threat model above stays true, and the following
// holds in addition.
//
// Keys. Every slot key (GENERATE, in 9A, 9C, 9D, 9E and the retired slots
// renewal uses) and the attestation key (F9) is created by TPM2_Create under
// the TPM's ECC P-256 storage root key (recreated from the owner seed at
// open, never exported) with fixedTPM, fixedParent, sensitiveDataOrigin and
// userWithAuth; ECC P-256, P-384 and RSA 2048 (the TPM profile's
// algorithms; Ed25519, X25519 and larger RSA are refused with 6A80, IMPORT
// with 6985: a TPM card promises that its keys were born in the TPM). The
// card file holds TPM2B_PUBLIC || TPM2B_PRIVATE, which only this TPM can
// load. ECDSA (TPM2_Sign), raw RSA (TPM2_RSA_Decrypt without padding, the
// client pads) and ECDH (TPM2_ECDH_ZGen) run in the TPM. MOVE KEY moves the
// blob; RESET drops them.
//
// PIN and PUK. A random 32-byte key secret K per card is the authValue of
// the keys that need the PIN. K is sealed twice in the TPM: in an object
// whose authValue is a hash of the PIN, and in one under the PUK. Both are
// dictionary-attack protected (noDA clear). VERIFY is TPM2_Unseal with the
// PIN: the TPM compares, a wrong PIN counts in the TPM's failure counter,
// and K exists only in the session (wiped on reset). The card's own retry
// counter (PIV's 63Cx, committed before the TPM is asked, as before) still
// blocks the PIN, but it lives in the file and an attacker can roll the file
// back; the TPM's counter cannot be rolled back, so over all copies of the
// file the guesses are bounded by the TPM's lockout policy: maxTries
// failures, then one per recovery interval (what the owner configured;
// Windows and most Linux distributions: tens of tries, then minutes per
// try). While the TPM is locked out the card answers 6983 and gives the try
// back. CHANGE REFERENCE and RESET RETRY COUNTER reseal K under the new
// value (no key is re-created); SET PIN RETRIES and RESET reseal the
// defaults (RESET with a new K, as the keys are gone). We chose the PIN as
// authorisation over an NV counter because it also makes the files and the
// TPM together useless without the PIN, which a counter does not.
//
// Management key and file secret. The management key must work without the
// PIN (card proof, management operations), so nothing PIN-like can protect
// it. It stays in the sealed part of the card file, and that part is sealed
// with AES-256-GCM under a key that is itself a TPM sealed object (fixedTPM,
// noDA, empty authValue, in the key store's file). Sealing the management
// key in a TPM object of its own with an authValue taken from the card file
// would give exactly the same guarantee, files plus this TPM, at one more
// TPM object per card: anyone who can run as the user on this computer
// gets the management key, as they would get the key file of a software
// card; copied to another computer it is useless. The same holds for the
// file secret, the authValue of the keys with PIN policy never (9E, the
// attestation key), which must work without the PIN by definition.
//
// Keys generated before VERIFY. GENERATE needs only the management key and
// piv-go asks for the PIN afterwards, so a PIN key generated in a session
// without a verified PIN is created under the file secret and rebound to K
// (TPM2_ObjectChangeAuth, same key, same certificate) at the next good
// VERIFY. Until then the key is as strong as a 9E key: usable by whoever
// runs as the user. And the old blob, under the file secret, stays loadable:
// an attacker who copied the card file in that window (between GENERATE and
// the first VERIFY, seconds during enrolment) keeps a PIN-free handle on the
// key on this computer. A key generated after VERIFY (or after a PIN change
// in the same session) is bound at once.
//
// Certify. TPM2_Certify needs the certified key's ADMIN role. We leave
// adminWithPolicy clear with an empty policy, so ADMIN is the same authValue
// as use: CertifyTPMKey takes the PIN (checked under both counters). An
// empty admin authValue reached through a PolicyCommandCode(Certify) policy
// would let anyone with TPM access use the key object without the PIN and
// outside the DA protection; the enrolment has the PIN anyway, as it signs
// the CSR with the key.
//
// Offline unblock. It sets a PIN with the management key alone, which on a
// TPM card cannot release K (if it could, the files plus the TPM would open
// the keys without the PIN). A TPM card therefore answers 6985 to GET
// UNBLOCK CHALLENGE: a forgotten PIN is unblocked with the PUK, or the card
// is renewed.
//
// Not against, in addition to the above: the TPM's owner (who can reset the
// lockout counter with the lockout authorisation, which Linux usually
// leaves empty, so root can give itself more guesses), a process that reads
// K from this process's memory while the PIN is verified, and a sniffer on
// the bus to a discrete TPM (authorisations travel in password sessions,
// not salted HMAC sessions with parameter encryption).
package vcard
