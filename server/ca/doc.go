// Package ca is vscard's embedded certificate authority.
//
// The CA is a two-level PKI kept in a data folder: a P-384 root and an issuing CA (P-256 by
// default) whose keys sign end-entity certificates for the virtual smart cards. [Open]
// creates the folder on first start and loads it afterwards; it refuses key files that
// anyone but the owner can read.
//
// The package is split like smallstep's authority and api: the core ([CA.Issue],
// [CA.Revoke], [CA.Status]) knows nothing about HTTP, and [CA.Handler] is a thin layer
// that publishes the certificates, the CRL and an OCSP responder for relying parties.
//
// # Records before signatures
//
// The CA keeps its own record of every certificate in a [Store], apart from the identity
// store. Issue writes the record (state PENDING) before it signs, marks it VALID with the
// DER after, and only then returns the certificate. If anything fails after signing, the
// record of what was signed remains and can be revoked; a PENDING record is never reported
// as good by OCSP.
//
// # What a CSR may ask for
//
// The CA trusts only the public key of a CSR and proof that the requester holds it (the CSR
// signature). It ignores the CSR's subject and extensions and writes the subject and the
// subject alternative names it was given in the [IssueRequest]. A CSR that requests SANs
// (a subjectAltName extension) beyond those the template grants is refused, so a requester
// never believes it got a name it did not get; requesting a subset of the granted names is
// allowed. Accepted keys are ECDSA P-256 and P-384, and RSA of at least 2048 bits.
//
// # Relying parties at scale
//
// Every login with a vscard certificate asks the CA, so once the CA follows the event bus
// ([CA.Follow], as the server does) OCSP answers come from memory: each certificate's
// response is signed once per half validity window, and re-signed at once when any
// instance revokes, holds or releases it (a notice on [CertKey]). GET answers carry RFC
// 5019's caching headers and revalidate with a 304; POST and nonce requests are not cached
// by HTTP. Serials the CA never issued are answered unknown from a Bloom filter of the
// issued ones, kept in step by the same notices, without a read. The CRL is split into
// [CRLPartitions] partitions by the serial's last hex digit, which is the certificate's
// CRL distribution point; /ca/crl stays the whole CRL. With a [CRLStore] (the server's
// database) a CRL is signed once per change for the whole cluster, by the instance that
// claims it, and loaded by the others.
package ca
