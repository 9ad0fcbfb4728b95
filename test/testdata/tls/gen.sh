#!/usr/bin/env bash
# Regenerates the test certificates of test/testdata/tls (see README.md).
# Test-only material: never use these keys outside the tests.
set -euo pipefail
cd "$(dirname "$0")"
days=36500
ext_dir=$(mktemp -d)
trap 'rm -rf "$ext_dir"' EXIT

# Two certificate authorities: the trusted one and a foreign one.
for ca in ca other_ca; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$ca.key" -out "$ca.crt" -days "$days" -sha256 \
    -subj "/CN=rnn-explain test $ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
done

# leaf NAME CA USAGE SAN
leaf() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1.key" -out "$ext_dir/$1.csr" -subj "/CN=rnn-explain test $1"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
    "$3" "$4" > "$ext_dir/$1.ext"
  openssl x509 -req -in "$ext_dir/$1.csr" -CA "$2.crt" -CAkey "$2.key" \
    -CAcreateserial -CAserial "$ext_dir/$2.srl" -days "$days" -sha256 \
    -extfile "$ext_dir/$1.ext" -out "$1.crt"
}
leaf server ca serverAuth "DNS:localhost,IP:127.0.0.1,IP:::1"
leaf client ca clientAuth "DNS:rnn-explain-test-client"
leaf other_client other_ca clientAuth "DNS:rnn-explain-test-other-client"

# The foreign CA's key is only needed to sign other_client.
rm other_ca.key
