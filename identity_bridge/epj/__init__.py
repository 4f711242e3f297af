"""The EPJ link: journal notes as Dialogmelding 1.1 (MsgHead 1.2) over NHN's message service.

Modules, one job each:
  errors     the exception hierarchy (every failure has a stable ``code``)
  codes      KITH code systems and values used in the messages
  model      frozen dataclasses: parties, the note, parsed metadata, receipts
  schemas    safe XML loading and schema validation against the vendored XSDs
  msghead    build / read MsgHead + Dialogmelding
  apprec     build / read AppRec 1.0
  sealed     the sealed note payload (crypto_box_seal to the journal gateway key)
  keys       key files: the HelseID client key, the gateway X25519 key
  dpop       DPoP proofs (RFC 9449) and client assertions (private_key_jwt)
  helseid    HelseID client-credentials token client
  msh        the message service REST client (EDI 2.0, API v2)
  outbox     sans-I/O outbox vocabulary and decisions (retry, status)
  producer   putting a sealed note on the outbox stream
  config     the worker's typed configuration
  worker     the I/O loop: ``python -m identity_bridge.epj.worker``
"""
