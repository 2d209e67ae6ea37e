// Kept free of imports: `outpost --help` must not load the crypto.
export const COMMUNITY_USAGE = `Usage: outpost community <subcommand> [options]

Communities: the nodes that replicate each other's data. The organiser keeps the file
with the secret key; nodes get the public file (or an admission certificate).

  create --out FILE [--name NAME] [--open]
      Make a new community; FILE holds its secret key (mode 0600). --open admits every
      node; otherwise each node needs an admission certificate.
  show [--community FILE | --data DIR] [--public [--out FILE]]
      Describe a community (default: the data dir's private one). --public writes the
      shareable part (no secret) to FILE or stdout.
  request --data DIR
      Print this node's key (made if missing) and the command the organiser runs to admit it.
  admit --community FILE (--node KEY | --data DIR) [--out FILE] [--relay]
      Admit a node (needs the secret). With --data the certificate is written into that
      data dir; otherwise to --out FILE or stdout. --relay makes a relay certificate: the
      relay may connect and carry the community's logs, but no log of its own is admitted.
  install --data DIR CERTIFICATE
      Put an admission certificate into a node's data dir (checked against its key).
      Restart the node to use it.
`
