#!/usr/bin/python3
"""ESP and AH oracle for Lupina's cross-check tests, built on Scapy's scapy.layers.ipsec.

Reads one JSON request per line on stdin and writes one JSON response per line on stdout, in
request order. A response is {"ok": true, "packet": HEX} or {"ok": false, "kind": KIND,
"error": TEXT}, where KIND is "invalid-request", "integrity", "malformed" or "unsupported".
A bad request never ends the process. test/oracle/scapy-oracle.ts documents the request fields.

Scapy 2.5.0 does the work, with three exceptions:
- ENCR_NULL_AUTH_AES_GMAC (RFC 4543) is missing from Scapy, so this script computes its ICV with
  cryptography's AESGCM. Scapy's NULL transform still builds and strips the ESP framing.
- ESP in UDP (RFC 3948) is decrypted by removing the UDP header first and then running Scapy's
  ESP processing. Scapy's own path only finds ESP behind UDP port 4500, and for IPv6 transport
  mode it leaves the UDP header in the output. After encryption this script recomputes the UDP
  length, which Scapy 2.5.0 sets to 8 in IPv4 packets.
- ESP with a separate integrity algorithm and ESN is rejected as unsupported. Scapy 2.5.0 leaves
  the high 32 bits of the ESN out of the ESP ICV, which RFC 4303 section 2.2.1 requires in it.
"""

import binascii
import hmac
import json
import os
import struct
import sys

# Scapy logs to stderr, but anything printed while it loads must not reach the response stream.
RESPONSES = sys.stdout
sys.stdout = sys.stderr

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from scapy.compat import raw  # noqa: E402
from scapy.config import conf  # noqa: E402
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.ipsec import (  # noqa: E402
    AH,
    ESP,
    CRYPT_ALGOS,
    IPSecIntegrityError,
    SecurityAssociation,
)

conf.verb = 0

AEAD_CRYPT_NAMES = ('AES-GCM', 'CHACHA20-POLY1305', 'AES-GMAC')
AUTH_NAMES = ('HMAC-SHA1-96', 'SHA2-256-128', 'SHA2-384-192', 'SHA2-512-256')

# Key lengths in bytes, with the 4-byte salt at the end for the transforms that have one
# (RFC 4106, RFC 4543, RFC 7634).
CRYPT_KEY_LENGTHS = {
    'NULL': (0,),
    'AES-CBC': (16, 24, 32),
    'AES-GCM': (20, 28, 36),
    'CHACHA20-POLY1305': (36,),
    'AES-GMAC': (20, 28, 36),
}

GMAC_SALT_LENGTH = 4
GMAC_IV_LENGTH = 8
GMAC_ICV_LENGTH = 16

IPPROTO_IPIP = 4
IPPROTO_IPV6 = 41
IPPROTO_UDP = 17
IPPROTO_ESP = 50


class OracleError(Exception):
    """A request that the oracle rejects, with the response kind."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def invalid(message):
    return OracleError('invalid-request', message)


def malformed(message):
    return OracleError('malformed', message)


# ---------------------------------------------------------------------------------------------
# Request parsing


def read_hex(request, name, required=True):
    value = request.get(name)
    if value is None:
        if required:
            raise invalid('missing field %r (hex string)' % name)
        return None
    if not isinstance(value, str):
        raise invalid('field %r must be a hex string, got %r' % (name, type(value).__name__))
    try:
        return binascii.unhexlify(value)
    except (binascii.Error, ValueError):
        raise invalid('field %r is not valid hex' % name)


def read_integer(request, name, maximum):
    value = request.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid('field %r must be an integer, got %r' % (name, value))
    if value < 0 or value > maximum:
        raise invalid('field %r is out of range 0..%d: %d' % (name, maximum, value))
    return value


def read_choice(request, name, choices, allow_null):
    value = request.get(name)
    if value is None and allow_null:
        return None
    if value not in choices:
        raise invalid('field %r must be one of %s, got %r' % (name, ', '.join(choices), value))
    return value


def parse_ip(data, description):
    """Parse bytes as an IPv4 or IPv6 packet, chosen by the version nibble."""
    if len(data) == 0:
        raise malformed('%s is empty' % description)
    version = data[0] >> 4
    if version == 4:
        return IP(data)
    if version == 6:
        return IPv6(data)
    raise malformed('%s has IP version %d, expected 4 or 6' % (description, version))


def build_tunnel_header(request):
    """Build the outer header for tunnel mode from tunnelSrc and tunnelDst.

    IPv4 outer headers get TTL 64, identification 1, TOS 0 and no flags unless the request sets
    tunnelTtl, tunnelId or tunnelTos. IPv6 outer headers get hop limit 64 (or tunnelTtl),
    traffic class 0 (or tunnelTos) and flow label 0.
    """
    source = request.get('tunnelSrc')
    destination = request.get('tunnelDst')
    if not isinstance(source, str) or not isinstance(destination, str):
        raise invalid('tunnel mode needs tunnelSrc and tunnelDst address strings')
    if (':' in source) != (':' in destination):
        raise invalid('tunnelSrc %s and tunnelDst %s are of different IP versions'
                      % (source, destination))

    ttl = request.get('tunnelTtl', 64)
    tos = request.get('tunnelTos', 0)
    try:
        if ':' in source:
            return IPv6(raw(IPv6(src=source, dst=destination, hlim=ttl, tc=tos)))
        identification = request.get('tunnelId', 1)
        header = IP(src=source, dst=destination, ttl=ttl, tos=tos, id=identification)
        return IP(raw(header))
    except (OSError, ValueError, TypeError, struct.error) as error:
        raise invalid('invalid tunnel header fields: %s' % error)


class Request(object):
    """The validated fields of one request line."""

    def __init__(self, request):
        if not isinstance(request, dict):
            raise invalid('request must be a JSON object')

        self.op = read_choice(request, 'op', ('encrypt', 'decrypt'), False)
        self.proto = read_choice(request, 'proto', ('esp', 'ah'), False)
        self.spi = read_integer(request, 'spi', 0xFFFFFFFF)
        self.esn = request.get('esn', False)
        if not isinstance(self.esn, bool):
            raise invalid('field esn must be a boolean')
        seq = read_integer(request, 'seq', 0xFFFFFFFFFFFFFFFF)
        if not self.esn and seq > 0xFFFFFFFF:
            raise invalid('seq %d needs esn: without ESN the sequence number has 32 bits' % seq)
        self.seq_high = seq >> 32
        self.seq_low = seq & 0xFFFFFFFF

        self.mode = read_choice(request, 'mode', ('tunnel', 'transport'), False)
        self.packet = read_hex(request, 'packet')
        self.iv = read_hex(request, 'iv', required=False)

        self.read_algorithms(request)
        self.read_encapsulation(request)

    def read_algorithms(self, request):
        self.auth = read_choice(request, 'auth', AUTH_NAMES, True)
        self.auth_key = read_hex(request, 'authKey', required=False)
        if self.auth is not None and not self.auth_key:
            raise invalid('auth %s needs a non-empty authKey' % self.auth)

        if self.proto == 'ah':
            if request.get('crypt') is not None:
                raise invalid('AH has no encryption, so crypt must be null')
            if self.auth is None:
                raise invalid('AH needs an auth algorithm')
            self.crypt = None
            self.crypt_key = None
            return

        self.crypt = read_choice(request, 'crypt', tuple(CRYPT_KEY_LENGTHS), True) or 'NULL'
        self.crypt_key = read_hex(request, 'cryptKey', required=False) or b''
        if len(self.crypt_key) not in CRYPT_KEY_LENGTHS[self.crypt]:
            raise invalid('cryptKey for %s must be %s bytes (salt included), got %d'
                          % (self.crypt, ' or '.join(map(str, CRYPT_KEY_LENGTHS[self.crypt])),
                             len(self.crypt_key)))
        # RFC 4303 section 3.2: ESP needs confidentiality, integrity or both.
        if self.crypt == 'NULL' and self.auth is None:
            raise invalid('ESP with NULL encryption needs an auth algorithm')
        # A combined-mode transform supplies the ICV itself, so a second integrity algorithm has
        # no place. Scapy would also read the HMAC bytes as the AEAD tag.
        if self.crypt in AEAD_CRYPT_NAMES and self.auth is not None:
            raise invalid('%s already authenticates, so auth must be null' % self.crypt)
        if self.esn and self.auth is not None:
            raise OracleError(
                'unsupported',
                'Scapy 2.5.0 leaves the ESN high bits out of the ESP ICV (RFC 4303 section '
                '2.2.1), so ESP with %s and ESN has no oracle' % self.auth)

    def read_encapsulation(self, request):
        self.tunnel_header = None
        if self.mode == 'tunnel':
            if self.op == 'encrypt':
                self.tunnel_header = build_tunnel_header(request)
            else:
                # Scapy only needs a tunnel header to know that the SA is in tunnel mode.
                self.tunnel_header = IP()

        self.udp_ports = None
        encapsulation = request.get('esp-in-udp')
        if encapsulation is None:
            return
        if self.proto != 'esp':
            raise invalid('esp-in-udp applies to ESP only')
        if not isinstance(encapsulation, dict):
            raise invalid('esp-in-udp must be an object {"sport": n, "dport": n}')
        self.udp_ports = (read_integer(encapsulation, 'sport', 0xFFFF),
                          read_integer(encapsulation, 'dport', 0xFFFF))

    def security_association(self, crypt):
        """Return a Scapy SA for this request, using `crypt` as the encryption transform."""
        nat_t_header = None
        if self.udp_ports is not None and self.op == 'encrypt':
            nat_t_header = UDP(sport=self.udp_ports[0], dport=self.udp_ports[1])
        crypt_key = self.crypt_key if crypt != 'NULL' else None
        return SecurityAssociation(
            ESP if self.proto == 'esp' else AH,
            spi=self.spi,
            seq_num=self.seq_low,
            crypt_algo=crypt if self.proto == 'esp' else None,
            crypt_key=crypt_key,
            auth_algo=self.auth,
            auth_key=self.auth_key,
            tunnel_header=self.tunnel_header,
            nat_t_header=nat_t_header,
            esn_en=self.esn,
            esn=self.seq_high,
        )


# ---------------------------------------------------------------------------------------------
# Packet helpers


def parse_plaintext(request):
    """Parse the packet to protect, and check that Scapy writes it back byte for byte."""
    packet = parse_ip(request.packet, 'packet')
    if raw(packet) != request.packet:
        raise malformed('Scapy does not rebuild the packet byte for byte; check its lengths')
    return packet


def esp_layer(packet):
    if not packet.haslayer(ESP):
        raise malformed('packet has no ESP header')
    return packet[ESP]


def strip_udp_encapsulation(packet, ports):
    """Remove the UDP header of ESP in UDP (RFC 3948), leaving plain ESP.

    The UDP checksum is not verified, because RFC 3948 section 2.1 has senders set it to zero.
    """
    if not packet.haslayer(UDP):
        raise malformed('packet has no UDP header for esp-in-udp')
    udp = packet[UDP]
    if (udp.sport, udp.dport) != ports:
        raise malformed('UDP ports %d -> %d differ from esp-in-udp %d -> %d'
                        % (udp.sport, udp.dport, ports[0], ports[1]))
    payload = raw(udp.payload)
    if udp.len != 8 + len(payload):
        raise malformed('UDP length %d differs from the datagram length %d'
                        % (udp.len, 8 + len(payload)))
    # RFC 3948 section 2.2: SPI zero is the non-ESP marker of IKE messages.
    if payload[:4] == b'\x00\x00\x00\x00':
        raise malformed('UDP payload starts with the non-ESP marker, so it is not ESP')

    header = udp.underlayer
    header.remove_payload()
    if packet.version == 4:
        header.proto = IPPROTO_ESP
    else:
        header.nh = IPPROTO_ESP
    return rebuild_lengths(packet / ESP(payload))


def rebuild_lengths(packet):
    """Rebuild `packet` with its IP and UDP lengths and its IPv4 checksum recomputed."""
    if packet.version == 4:
        del packet.len
        del packet.chksum
    else:
        del packet.plen
    if packet.haslayer(UDP):
        del packet[UDP].len
    return packet.__class__(raw(packet))


# ---------------------------------------------------------------------------------------------
# ESP through Scapy


def check_esp_lengths(request, esp, iv_length, icv_length, block_size):
    """Reject ESP data too short for IV, trailer and ICV, or not a whole number of blocks."""
    sealed_length = len(esp.data) - iv_length - icv_length
    if sealed_length < 2:
        raise malformed('ESP payload of %d bytes is too short for %s with a %d-byte ICV'
                        % (len(esp.data), request.crypt, icv_length))
    if sealed_length % block_size != 0:
        raise malformed('ESP ciphertext of %d bytes is not a multiple of the %d-byte block'
                        % (sealed_length, block_size))


def recover_trailer(sa, esp, icv_length):
    """Decrypt the ESP payload again and check that Pad Length fits inside it.

    Scapy slices the payload by Pad Length without checking it, so an oversized value would
    otherwise yield a shortened packet in place of an error.
    """
    plain = sa.crypt_algo.decrypt(sa, esp, sa.crypt_key, icv_length,
                                  esn_en=sa.esn_en, esn=sa.esn)
    sealed_length = len(esp.data) - sa.crypt_algo.iv_size - icv_length
    if plain.padlen + 2 > sealed_length:
        raise malformed('Pad Length %d exceeds the %d-byte payload'
                        % (plain.padlen, sealed_length))
    return plain


def encrypt_esp(request):
    packet = parse_plaintext(request)
    sa = request.security_association(request.crypt)
    iv = request.iv
    if iv is not None and len(iv) != sa.crypt_algo.iv_size:
        raise invalid('iv for %s must be %d bytes, got %d'
                      % (request.crypt, sa.crypt_algo.iv_size, len(iv)))
    protected = sa.encrypt(packet, iv=iv)
    if request.udp_ports is not None:
        protected = rebuild_lengths(protected)
    return raw(protected)


def decrypt_esp(request):
    packet = parse_ip(request.packet, 'packet')
    if request.udp_ports is not None:
        packet = strip_udp_encapsulation(packet, request.udp_ports)
    esp = esp_layer(packet)
    if esp.spi != request.spi:
        raise malformed('packet SPI 0x%08x differs from the request SPI 0x%08x'
                        % (esp.spi, request.spi))

    sa = request.security_association(request.crypt)
    algorithm = CRYPT_ALGOS[request.crypt]
    icv_length = algorithm.icv_size or sa.auth_algo.icv_size
    block_size = algorithm.block_size if request.crypt == 'AES-CBC' else 1
    check_esp_lengths(request, esp, algorithm.iv_size, icv_length, block_size)

    encrypted = esp.copy()
    result = sa.decrypt(packet)
    plain = recover_trailer(sa, encrypted, icv_length)
    return finish_decapsulation(request, plain, result)


def finish_decapsulation(request, plain, result):
    """Return the inner packet of tunnel mode, or the rebuilt packet of transport mode."""
    if request.mode == 'transport':
        return raw(result)
    # RFC 4303 section 2.6: tunnel mode carries a whole IPv4 or IPv6 packet.
    if plain.nh not in (IPPROTO_IPIP, IPPROTO_IPV6):
        raise malformed('tunnel-mode Next Header is %d, expected 4 (IPv4) or 41 (IPv6)'
                        % plain.nh)
    return raw(plain.data)


# ---------------------------------------------------------------------------------------------
# ENCR_NULL_AUTH_AES_GMAC (RFC 4543), computed here because Scapy 2.5.0 lacks it


def gmac_icv(request, iv, cleartext):
    """Compute the 16-byte ICV of ENCR_NULL_AUTH_AES_GMAC (RFC 4543 sections 3 and 5).

    The nonce is the 4-byte salt from the end of the keying material, then the IV. The AAD
    starts with the SPI and the 32-bit sequence number, or with ESN the SPI and the high and low
    32 bits (RFC 4543 section 3.3, RFC 4106 section 5). The IV and the cleartext payload with
    its padding, Pad Length and Next Header follow. The GCM plaintext is empty, so the GCM tag
    is the whole ICV.
    """
    key = request.crypt_key[:-GMAC_SALT_LENGTH]
    salt = request.crypt_key[-GMAC_SALT_LENGTH:]
    if request.esn:
        sequence = struct.pack('!LLL', request.spi, request.seq_high, request.seq_low)
    else:
        sequence = struct.pack('!LL', request.spi, request.seq_low)
    aad = sequence + iv + cleartext
    return AESGCM(key).encrypt(salt + iv, b'', aad)


def encrypt_gmac(request):
    packet = parse_plaintext(request)
    iv = request.iv if request.iv is not None else os.urandom(GMAC_IV_LENGTH)
    if len(iv) != GMAC_IV_LENGTH:
        raise invalid('iv for AES-GMAC must be %d bytes, got %d' % (GMAC_IV_LENGTH, len(iv)))

    # Scapy's NULL transform pads to a 4-byte boundary (RFC 4303 section 2.4), as GMAC needs
    # no block alignment, and builds the outer header, the UDP header and the ESP header.
    framed = request.security_association('NULL').encrypt(packet, iv=b'')
    esp = esp_layer(framed)
    cleartext = esp.data
    esp.data = iv + cleartext + gmac_icv(request, iv, cleartext)
    return raw(rebuild_lengths(framed))


def decrypt_gmac(request):
    packet = parse_ip(request.packet, 'packet')
    if request.udp_ports is not None:
        packet = strip_udp_encapsulation(packet, request.udp_ports)
    esp = esp_layer(packet)
    if esp.spi != request.spi:
        raise malformed('packet SPI 0x%08x differs from the request SPI 0x%08x'
                        % (esp.spi, request.spi))
    if len(esp.data) < GMAC_IV_LENGTH + 2 + GMAC_ICV_LENGTH:
        raise malformed('ESP payload of %d bytes is too short for AES-GMAC' % len(esp.data))

    iv = esp.data[:GMAC_IV_LENGTH]
    cleartext = esp.data[GMAC_IV_LENGTH:-GMAC_ICV_LENGTH]
    icv = esp.data[-GMAC_ICV_LENGTH:]
    if not hmac.compare_digest(icv, gmac_icv(request, iv, cleartext)):
        raise OracleError('integrity', 'AES-GMAC ICV verification failed')

    # With the ICV checked, Scapy's NULL transform strips the trailer and decapsulates.
    esp.data = cleartext
    sa = request.security_association('NULL')
    encrypted = esp.copy()
    result = sa.decrypt(packet, verify=False)
    plain = recover_trailer(sa, encrypted, 0)
    return finish_decapsulation(request, plain, result)


# ---------------------------------------------------------------------------------------------
# AH through Scapy


def encrypt_ah(request):
    if request.iv is not None:
        raise invalid('AH has no IV, so iv must be null')
    packet = parse_plaintext(request)
    return raw(request.security_association(None).encrypt(packet))


def decrypt_ah(request):
    packet = parse_ip(request.packet, 'packet')
    if not packet.haslayer(AH):
        raise malformed('packet has no AH header')
    ah = packet[AH]
    if ah.spi != request.spi:
        raise malformed('packet SPI 0x%08x differs from the request SPI 0x%08x'
                        % (ah.spi, request.spi))
    if ah.payloadlen is None or ah.payloadlen < 1:
        raise malformed('AH Payload Length %r is too small' % ah.payloadlen)

    result = request.security_association(None).decrypt(packet)
    if request.mode == 'transport':
        return raw(result)
    if ah.nh not in (IPPROTO_IPIP, IPPROTO_IPV6):
        raise malformed('tunnel-mode Next Header is %d, expected 4 (IPv4) or 41 (IPv6)'
                        % ah.nh)
    return raw(result)


# ---------------------------------------------------------------------------------------------
# Request loop


def handle(line):
    try:
        request = Request(json.loads(line))
    except ValueError as error:
        raise invalid('request is not valid JSON: %s' % error)

    if request.proto == 'ah':
        operation = encrypt_ah if request.op == 'encrypt' else decrypt_ah
    elif request.crypt == 'AES-GMAC':
        operation = encrypt_gmac if request.op == 'encrypt' else decrypt_gmac
    else:
        operation = encrypt_esp if request.op == 'encrypt' else decrypt_esp
    return binascii.hexlify(operation(request)).decode('ascii')


def respond(line):
    try:
        return {'ok': True, 'packet': handle(line)}
    except OracleError as error:
        return {'ok': False, 'kind': error.kind, 'error': str(error)}
    except IPSecIntegrityError as error:
        return {'ok': False, 'kind': 'integrity', 'error': 'ICV verification failed: %s' % error}
    except Exception as error:  # noqa: BLE001 - one bad packet must not end the oracle
        return {'ok': False, 'kind': 'malformed',
                'error': 'Scapy failed: %s: %s' % (type(error).__name__, error)}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        RESPONSES.write(json.dumps(respond(line)) + '\n')
        RESPONSES.flush()


if __name__ == '__main__':
    main()
