#!/usr/bin/python3
"""A static-key IPsec gateway built on Scapy 2.5.0's SecurityAssociation, for interop tests.

Run it inside the gateway's network namespace. It reads its configuration as one JSON object,
from the first command-line argument or, when there is none or it is "-", from stdin:

    {
      "local": "198.51.100.1",            outer address of this gateway
      "peer": "198.51.100.10",            outer address of the client
      "encapsulation": "raw" or "udp",    ESP/AH straight over IP, or ESP in UDP (RFC 3948)
      "udpPort": 4500,                    local UDP port for "udp", 4500 by default
      "answer": ["203.0.113.0/24"],       destinations whose echo requests get a reply
      "inbound": SA, "outbound": SA
    }

An SA is {"proto": "esp" or "ah", "spi": N, "mode": "tunnel" or "transport", "crypt": "NULL" or
"AES-CBC", "cryptKey": HEX, "auth": a Scapy name such as "SHA2-256-128", "authKey": HEX}.

The gateway receives ESP or AH from the client on a raw socket for protocol 50 or 51, or ESP on
a UDP socket, where it ignores NAT keepalives (0xFF) and non-ESP marked IKE messages. It
decrypts with the inbound SA and answers each ICMP echo request for an `answer` destination
with an echo reply from that destination, protected by the outbound SA and sent to the client.
It forwards nothing. ESP in UDP goes back to the source port of the last authenticated packet,
because a NAT between the peers may change that port.

It prints READY on stdout once its sockets are open. On SIGTERM or SIGINT it prints its counters
as one JSON object on stdout and exits 0. A bad configuration exits 2 with the reason on stderr.

NOTE: only IPv4 outer and inner packets are handled, and there is no anti-replay check.
"""

import binascii
import ipaddress
import json
import select
import signal
import socket
import sys

# Scapy prints warnings while it loads, and stdout carries only READY and the counters.
OUTPUT = sys.stdout
sys.stdout = sys.stderr

from scapy.compat import raw  # noqa: E402
from scapy.config import conf  # noqa: E402
from scapy.layers.inet import ICMP, IP  # noqa: E402
from scapy.layers.ipsec import AH, ESP, IPSecIntegrityError, SecurityAssociation  # noqa: E402
from scapy.packet import Raw  # noqa: E402

conf.verb = 0

CRYPT_NAMES = ('NULL', 'AES-CBC')
AUTH_NAMES = ('HMAC-SHA1-96', 'SHA2-256-128', 'SHA2-384-192', 'SHA2-512-256')

IPPROTO_ESP = 50
IPPROTO_AH = 51
NAT_T_PORT = 4500
NAT_KEEPALIVE = b'\xff'
NON_ESP_MARKER = b'\x00\x00\x00\x00'
# RFC 3948 section 2.1: an ESP packet in UDP has at least the SPI and the sequence number.
MIN_ESP_LENGTH = 8
ICMP_ECHO_REQUEST = 8
ICMP_ECHO_REPLY = 0
MAX_DATAGRAM = 65535
# Each kind of dropped packet is logged this many times, then only counted.
LOGGED_DROPS_PER_KIND = 5


class ConfigError(Exception):
    """An invalid configuration, with the field that is wrong."""


class Stop(Exception):
    """Raised by the signal handler to leave the receive loop."""


def require(config, name, kinds):
    value = config.get(name)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise ConfigError('field %r is missing or of the wrong type: %r' % (name, value))
    return value


def read_address(config, name):
    text = require(config, name, str)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ConfigError('field %r is not an IP address: %r' % (name, text))
    if address.version != 4:
        raise ConfigError('field %r must be an IPv4 address, because the peer handles IPv4 only'
                          % name)
    return str(address)


def read_key(config, name):
    text = config.get(name)
    if text is None or text == '':
        return None
    try:
        return binascii.unhexlify(require(config, name, str))
    except (binascii.Error, ValueError):
        raise ConfigError('field %r is not valid hex' % name)


class PeerSa(object):
    """One direction of the static SA pair, as a Scapy SecurityAssociation."""

    def __init__(self, config, direction, source, destination):
        if not isinstance(config, dict):
            raise ConfigError('field %r must be an SA object' % direction)
        self.proto = require(config, 'proto', str)
        if self.proto not in ('esp', 'ah'):
            raise ConfigError('%s proto must be "esp" or "ah", got %r' % (direction, self.proto))
        self.spi = require(config, 'spi', int)
        if not 256 <= self.spi <= 0xFFFFFFFF:
            # RFC 4303 section 2.1: SPIs 1 to 255 are reserved.
            raise ConfigError('%s spi must be 256 to 0xffffffff, got %d' % (direction, self.spi))
        self.mode = require(config, 'mode', str)
        if self.mode not in ('tunnel', 'transport'):
            raise ConfigError('%s mode must be "tunnel" or "transport"' % direction)

        crypt = config.get('crypt') if self.proto == 'esp' else None
        if crypt is not None and crypt not in CRYPT_NAMES:
            raise ConfigError('%s crypt must be one of %s' % (direction, ', '.join(CRYPT_NAMES)))
        auth = config.get('auth')
        if auth is not None and auth not in AUTH_NAMES:
            raise ConfigError('%s auth must be one of %s' % (direction, ', '.join(AUTH_NAMES)))
        if auth is None and self.proto == 'ah':
            raise ConfigError('%s: AH needs an auth algorithm' % direction)

        # Scapy takes tunnel mode from the presence of a tunnel header, which becomes the outer
        # header of outbound packets.
        tunnel_header = None
        if self.mode == 'tunnel':
            tunnel_header = IP(src=source, dst=destination)
        self.sa = SecurityAssociation(
            ESP if self.proto == 'esp' else AH,
            spi=self.spi,
            crypt_algo=crypt,
            crypt_key=read_key(config, 'cryptKey'),
            auth_algo=auth,
            auth_key=read_key(config, 'authKey'),
            tunnel_header=tunnel_header,
        )

    @property
    def ip_protocol(self):
        return IPPROTO_ESP if self.proto == 'esp' else IPPROTO_AH


class Config(object):
    def __init__(self, config):
        if not isinstance(config, dict):
            raise ConfigError('the configuration must be a JSON object')
        self.local = read_address(config, 'local')
        self.peer = read_address(config, 'peer')
        self.encapsulation = config.get('encapsulation', 'raw')
        if self.encapsulation not in ('raw', 'udp'):
            raise ConfigError('encapsulation must be "raw" or "udp"')
        self.udp_port = config.get('udpPort', NAT_T_PORT)
        if isinstance(self.udp_port, bool) or not isinstance(self.udp_port, int):
            raise ConfigError('udpPort must be a port number')
        try:
            self.answer = [ipaddress.ip_network(text) for text in require(config, 'answer', list)]
        except (TypeError, ValueError) as error:
            raise ConfigError('answer must list networks such as "203.0.113.0/24": %s' % error)
        self.inbound = PeerSa(config.get('inbound'), 'inbound', self.peer, self.local)
        self.outbound = PeerSa(config.get('outbound'), 'outbound', self.local, self.peer)
        if self.encapsulation == 'udp' and 'ah' in (self.inbound.proto, self.outbound.proto):
            raise ConfigError('AH cannot be carried in UDP (RFC 3948 covers ESP only)')


class Peer(object):
    def __init__(self, config):
        self.config = config
        self.counters = {
            'received': 0,
            'keepalives': 0,
            'nonEsp': 0,
            'foreign': 0,
            'unknownSpi': 0,
            'integrityFailures': 0,
            'malformed': 0,
            'decrypted': 0,
            'echoRequests': 0,
            'ignored': 0,
            'answered': 0,
        }
        self.udp_reply_port = NAT_T_PORT
        self.receivers = []
        self.udp_socket = None
        self.raw_sender = None

    def open_sockets(self):
        config = self.config
        if config.encapsulation == 'udp':
            self.udp_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp_socket.bind((config.local, config.udp_port))
            self.receivers.append(self.udp_socket)
            return
        # A raw socket receives every packet of its protocol, and binding filters the destination.
        receiver = socket.socket(socket.AF_INET, socket.SOCK_RAW, config.inbound.ip_protocol)
        receiver.bind((config.local, 0))
        self.receivers.append(receiver)
        # IPPROTO_RAW implies IP_HDRINCL, so Scapy's outer header goes out as built (raw(7)).
        self.raw_sender = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)

    def run(self):
        while True:
            readable, _, _ = select.select(self.receivers, [], [])
            for receiver in readable:
                if receiver is self.udp_socket:
                    self.receive_udp()
                else:
                    self.receive_raw(receiver)

    def drop(self, kind, detail):
        self.counters[kind] += 1
        if self.counters[kind] <= LOGGED_DROPS_PER_KIND:
            sys.stderr.write('scapy_peer: dropped a packet (%s): %s\n' % (kind, detail))

    def receive_raw(self, receiver):
        data = receiver.recv(MAX_DATAGRAM)
        self.counters['received'] += 1
        packet = IP(data)
        if packet.src != self.config.peer:
            self.drop('foreign', 'from %s' % packet.src)
            return
        self.unprotect(packet)

    def receive_udp(self):
        data, (address, port) = self.udp_socket.recvfrom(MAX_DATAGRAM)
        self.counters['received'] += 1
        if address != self.config.peer:
            self.drop('foreign', 'from %s:%d' % (address, port))
            return
        if data == NAT_KEEPALIVE:
            # RFC 3948 section 2.3: the receiver ignores a NAT keepalive.
            self.counters['keepalives'] += 1
            return
        if data.startswith(NON_ESP_MARKER):
            # RFC 3948 section 2.2: a zero SPI marks an IKE message, which this peer does not handle.
            self.counters['nonEsp'] += 1
            return
        if len(data) < MIN_ESP_LENGTH:
            self.drop('malformed', 'UDP payload of %d bytes is too short for ESP' % len(data))
            return
        # Scapy decrypts IP packets, so the ESP payload gets the IP header it would have had.
        packet = IP(raw(IP(src=address, dst=self.config.local, proto=IPPROTO_ESP) / Raw(data)))
        if self.unprotect(packet):
            self.udp_reply_port = port

    def unprotect(self, packet):
        """Decrypt one packet and reply to the echo request inside. Return True if the ICV was valid."""
        sa = self.config.inbound
        layer = ESP if sa.proto == 'esp' else AH
        if not packet.haslayer(layer):
            self.drop('malformed', 'no %s header' % sa.proto.upper())
            return False
        if packet[layer].spi != sa.spi:
            self.drop('unknownSpi', 'SPI 0x%08x' % packet[layer].spi)
            return False
        try:
            inner = sa.sa.decrypt(packet)
        except IPSecIntegrityError as error:
            self.drop('integrityFailures', str(error))
            return False
        except Exception as error:  # noqa: BLE001 - one bad packet must not stop the peer
            self.drop('malformed', '%s: %s' % (type(error).__name__, error))
            return False
        self.counters['decrypted'] += 1
        if sa.mode == 'tunnel':
            # Scapy 2.5.0 returns the inner packet of AH tunnel mode as Raw, so parse it here.
            inner = IP(raw(inner))
        self.answer(inner)
        return True

    def answer(self, inner):
        if not isinstance(inner, IP) or not inner.haslayer(ICMP):
            self.counters['ignored'] += 1
            return
        request = inner[ICMP]
        if request.type != ICMP_ECHO_REQUEST:
            self.counters['ignored'] += 1
            return
        self.counters['echoRequests'] += 1
        destination = ipaddress.ip_address(inner.dst)
        if not any(destination in network for network in self.config.answer):
            self.counters['ignored'] += 1
            return

        echo = ICMP(type=ICMP_ECHO_REPLY, code=0, id=request.id, seq=request.seq)
        reply = IP(src=inner.dst, dst=inner.src, ttl=64) / echo / raw(request.payload)
        self.send(IP(raw(reply)))
        self.counters['answered'] += 1

    def send(self, packet):
        protected = self.config.outbound.sa.encrypt(packet)
        if self.udp_socket is not None:
            # RFC 3948 section 2.1: the UDP payload is the ESP packet without the IP header.
            self.udp_socket.sendto(raw(protected[ESP]), (self.config.peer, self.udp_reply_port))
        else:
            self.raw_sender.sendto(raw(protected), (self.config.peer, 0))


def read_configuration(argv):
    text = argv[1] if len(argv) > 1 and argv[1] != '-' else sys.stdin.read()
    try:
        return Config(json.loads(text))
    except ValueError as error:
        raise ConfigError('the configuration is not valid JSON: %s' % error)


def stop(signum, frame):
    raise Stop()


def main(argv):
    try:
        config = read_configuration(argv)
    except ConfigError as error:
        sys.stderr.write('scapy_peer: invalid configuration: %s\n' % error)
        return 2

    peer = Peer(config)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        peer.open_sockets()
        OUTPUT.write('READY\n')
        OUTPUT.flush()
        peer.run()
    except Stop:
        pass
    OUTPUT.write(json.dumps(peer.counters) + '\n')
    OUTPUT.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
