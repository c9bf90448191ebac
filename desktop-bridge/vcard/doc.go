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
package vcard
