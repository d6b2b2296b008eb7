/*
 * Copyright (C) 2026 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

#include "tun_offload.h"

#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

/** Length of an IPv4 header without options, and of an IPv6 header */
#define IPV4_HEADER_LENGTH 20
#define IPV6_HEADER_LENGTH 40

/** Length of a TCP header without options */
#define TCP_HEADER_LENGTH 20

/** Offset of the checksum in the TCP header (RFC 9293 section 3.1) */
#define TCP_CHECKSUM_OFFSET 16

/** Largest IPv4 total length and IPv6 payload length */
#define IP_MAX_LENGTH 65535

/** TCP flags (RFC 9293 section 3.1, RFC 3168 section 6.1) */
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

/** IPv4 flags and fragment offset: MF and the offset, DF */
#define IPV4_FRAGMENT_MASK 0x3fff
#define IPV4_DONT_FRAGMENT 0x4000

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		   (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t value)
{
	p[0] = value >> 8;
	p[1] = value & 0xff;
}

static void put32(uint8_t *p, uint32_t value)
{
	p[0] = value >> 24;
	p[1] = (value >> 16) & 0xff;
	p[2] = (value >> 8) & 0xff;
	p[3] = value & 0xff;
}

/**
 * Add bytes to an Internet checksum sum (RFC 1071), in host order words.
 *
 * The sum of host order words folds to the checksum in host order, so
 * storing the result with memcpy gives the bytes in network order on any
 * host (RFC 1071 section 2, "byte order independence").
 *
 * @param data		bytes, starting at an even offset of the checksummed data
 * @param length	number of bytes; odd only for the last call
 * @param sum		sum so far
 * @return			new sum, not folded
 */
static uint64_t sum_bytes(const uint8_t *data, size_t length, uint64_t sum)
{
	uint32_t word32;
	uint16_t word16;
	uint8_t last[2];

	while (length >= 4)
	{
		memcpy(&word32, data, 4);
		sum += word32;
		data += 4;
		length -= 4;
	}
	if (length >= 2)
	{
		memcpy(&word16, data, 2);
		sum += word16;
		data += 2;
		length -= 2;
	}
	if (length)
	{
		last[0] = data[0];
		last[1] = 0;
		memcpy(&word16, last, 2);
		sum += word16;
	}
	return sum;
}

/**
 * Fold a sum to 16 bits with end-around carry.
 */
static uint16_t fold(uint64_t sum)
{
	while (sum >> 16)
	{
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)sum;
}

/**
 * Store a host order checksum at p.
 */
static void store_checksum(uint8_t *p, uint16_t checksum)
{
	memcpy(p, &checksum, 2);
}

/**
 * Sum of the TCP pseudo-header (RFC 9293 section 3.1, RFC 8200
 * section 8.1).
 *
 * @param ip		IPv4 or IPv6 header
 * @param family	4 or 6
 * @param tcp_length	TCP header and payload length
 * @return			sum, not folded
 */
static uint64_t pseudo_header_sum(const uint8_t *ip, int family,
								  size_t tcp_length)
{
	uint64_t sum;

	if (family == 4)
	{
		sum = sum_bytes(ip + 12, 8, 0);
	}
	else
	{
		sum = sum_bytes(ip + 8, 32, 0);
	}
	sum += htons((uint16_t)(tcp_length >> 16));
	sum += htons((uint16_t)tcp_length);
	sum += htons(IPPROTO_TCP);
	return sum;
}

/**
 * Compute and store the header checksum of an IPv4 header.
 *
 * @param ip		the header
 * @param length	its length, options included
 */
static void set_ipv4_checksum(uint8_t *ip, size_t length)
{
	memset(ip + 10, 0, 2);
	store_checksum(ip + 10, ~fold(sum_bytes(ip, length, 0)));
}

/**
 * Compute and store the checksum of a TCP segment.
 *
 * @param ip		IPv4 or IPv6 header, followed by the segment
 * @param family	4 or 6
 * @param ip_length	IP header length
 * @param length	packet length
 */
static void set_tcp_checksum(uint8_t *ip, int family, size_t ip_length,
							 size_t length)
{
	uint8_t *tcp = ip + ip_length;
	uint64_t sum;

	memset(tcp + TCP_CHECKSUM_OFFSET, 0, 2);
	sum = pseudo_header_sum(ip, family, length - ip_length);
	sum = sum_bytes(tcp, length - ip_length, sum);
	store_checksum(tcp + TCP_CHECKSUM_OFFSET, ~fold(sum));
}

/**
 * Find the length of the IPv6 header with the hop-by-hop and destination
 * options headers that may follow it, up to a TCP header (RFC 8200
 * section 4). A routing header would change the destination that the TCP
 * checksum covers, and a fragment header cannot be segmented, so neither
 * is accepted.
 *
 * @param packet	IPv6 packet of at least IPV6_HEADER_LENGTH bytes
 * @param length	its length
 * @param ip_length	receives the length of the IPv6 headers
 * @return			true if TCP follows these headers
 */
static bool ipv6_headers(const uint8_t *packet, size_t length,
						 size_t *ip_length)
{
	uint8_t next = packet[6];
	size_t offset = IPV6_HEADER_LENGTH;

	while (next == IPPROTO_HOPOPTS || next == IPPROTO_DSTOPTS)
	{
		if (length - offset < 8)
		{
			return false;
		}
		next = packet[offset];
		offset += ((size_t)packet[offset + 1] + 1) * 8;
		if (offset > length)
		{
			return false;
		}
	}
	*ip_length = offset;
	return next == IPPROTO_TCP;
}

/**
 * Find the IP and TCP header lengths of a TCP packet without
 * fragmentation.
 *
 * @param packet	the packet
 * @param length	its length
 * @param family	4 or 6, the family the packet must have
 * @param extensions	IPv6: whether options headers may come before TCP
 * @param ip_length	receives the IP header length
 * @param header_length	receives the IP and TCP header length
 * @return			true if the packet has these headers
 */
static bool tcp_headers(const uint8_t *packet, size_t length, int family,
						bool extensions, size_t *ip_length,
						size_t *header_length)
{
	size_t tcp_length;

	if (length < 1 || packet[0] >> 4 != family)
	{
		return false;
	}
	if (family == 4)
	{
		*ip_length = (size_t)(packet[0] & 0x0f) * 4;
		if (length < IPV4_HEADER_LENGTH || *ip_length < IPV4_HEADER_LENGTH ||
			packet[9] != IPPROTO_TCP ||
			(get16(packet + 6) & IPV4_FRAGMENT_MASK) != 0)
		{
			return false;
		}
	}
	else
	{
		*ip_length = IPV6_HEADER_LENGTH;
		if (length < IPV6_HEADER_LENGTH ||
			(extensions ? !ipv6_headers(packet, length, ip_length)
						: packet[6] != IPPROTO_TCP))
		{
			return false;
		}
	}
	if (length < *ip_length + TCP_HEADER_LENGTH)
	{
		return false;
	}
	tcp_length = (size_t)(packet[*ip_length + 12] >> 4) * 4;
	if (tcp_length < TCP_HEADER_LENGTH || length < *ip_length + tcp_length)
	{
		return false;
	}
	*header_length = *ip_length + tcp_length;
	return true;
}

/**
 * Plan a frame without GSO: a copy, or a checksum to complete.
 */
static tun_offload_error_t plan_single(const struct virtio_net_hdr *header,
									   tun_split_t *split)
{
	split->count = 1;
	split->kind = TUN_SPLIT_COPY;
	if (!(header->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
	{
		return TUN_OFFLOAD_OK;
	}

	split->kind = TUN_SPLIT_CHECKSUM;
	split->csum_start = header->csum_start;
	split->csum_offset = header->csum_offset;
	if (split->csum_start > split->length ||
		split->csum_offset > split->length - split->csum_start ||
		split->length - split->csum_start - split->csum_offset < 2)
	{
		return TUN_OFFLOAD_CSUM_RANGE;
	}
	return TUN_OFFLOAD_OK;
}

/**
 * Plan the segmentation of a TCP frame. The lengths come from the packet's
 * own headers, not from hdr_len and csum_start.
 */
static tun_offload_error_t plan_tcp(const struct virtio_net_hdr *header,
									int family, tun_split_t *split)
{
	size_t payload;

	split->kind = TUN_SPLIT_TCP;
	split->family = family;
	if (!tcp_headers(split->packet, split->length, family, true,
					 &split->ip_length, &split->header_length))
	{
		return TUN_OFFLOAD_HEADERS;
	}

	split->mss = header->gso_size;
	if (split->mss == 0)
	{
		return TUN_OFFLOAD_SEGMENTS;
	}
	payload = split->length - split->header_length;
	split->count = payload ? (payload + split->mss - 1) / split->mss : 1;
	if (split->count > TUN_OFFLOAD_MAX_SEGMENTS)
	{
		return TUN_OFFLOAD_SEGMENTS;
	}
	return TUN_OFFLOAD_OK;
}

/*
 * Described in header
 */
tun_offload_error_t tun_offload_split_plan(const uint8_t *frame,
										   size_t length, tun_split_t *split)
{
	struct virtio_net_hdr header;

	memset(split, 0, sizeof(*split));
	if (length < TUN_OFFLOAD_HEADER_SIZE)
	{
		return TUN_OFFLOAD_SHORT;
	}
	/* no TUNSETVNETLE or TUNSETVNETBE, so the fields are in host order */
	memcpy(&header, frame, TUN_OFFLOAD_HEADER_SIZE);
	split->packet = frame + TUN_OFFLOAD_HEADER_SIZE;
	split->length = length - TUN_OFFLOAD_HEADER_SIZE;

	switch (header.gso_type & ~VIRTIO_NET_HDR_GSO_ECN)
	{
		case VIRTIO_NET_HDR_GSO_NONE:
			return plan_single(&header, split);
		case VIRTIO_NET_HDR_GSO_TCPV4:
			return plan_tcp(&header, 4, split);
		case VIRTIO_NET_HDR_GSO_TCPV6:
			return plan_tcp(&header, 6, split);
		default:
			return TUN_OFFLOAD_GSO_TYPE;
	}
}

/**
 * Payload bytes of one TCP segment.
 */
static size_t segment_payload(const tun_split_t *split, size_t index)
{
	size_t payload = split->length - split->header_length;
	size_t offset = index * split->mss;

	return payload - offset < split->mss ? payload - offset : split->mss;
}

/*
 * Described in header
 */
size_t tun_offload_segment_length(const tun_split_t *split, size_t index)
{
	if (split->kind != TUN_SPLIT_TCP)
	{
		return split->length;
	}
	if (split->length == split->header_length)
	{
		return split->length;
	}
	return split->header_length + segment_payload(split, index);
}

/**
 * Complete a partial checksum: the field carries the pseudo-header sum, and
 * the sum from csum_start to the end goes in its place.
 */
static void complete_checksum(const tun_split_t *split, uint8_t *packet)
{
	uint8_t *field = packet + split->csum_start + split->csum_offset;
	uint16_t checksum;

	checksum = ~fold(sum_bytes(packet + split->csum_start,
							   split->length - split->csum_start, 0));
	/* a UDP checksum of 0 means "none" (RFC 768), so 0xffff stands for it */
	store_checksum(field, checksum ? checksum : 0xffff);
}

/**
 * Set the fields that differ from segment to segment: lengths, the IPv4
 * identification, the sequence number and the flags (RFC 9293 section
 * 3.1; CWR only on the first segment, RFC 3168 section 6.1.2).
 */
static void set_segment_fields(const tun_split_t *split, size_t index,
							   uint8_t *out, size_t length)
{
	uint8_t *tcp = out + split->ip_length;
	uint8_t flags = tcp[13];

	if (split->family == 4)
	{
		put16(out + 2, (uint16_t)length);
		put16(out + 4, (uint16_t)(get16(split->packet + 4) + index));
	}
	else
	{
		put16(out + 4, (uint16_t)(length - IPV6_HEADER_LENGTH));
	}

	put32(tcp + 4, get32(split->packet + split->ip_length + 4) +
				   (uint32_t)(index * split->mss));
	if (index + 1 < split->count)
	{
		flags &= ~(TCP_FIN | TCP_PSH);
	}
	if (index > 0)
	{
		flags &= ~TCP_CWR;
	}
	tcp[13] = flags;
}

/*
 * Described in header
 */
void tun_offload_segment_build(const tun_split_t *split, size_t index,
							   uint8_t *out)
{
	size_t length = tun_offload_segment_length(split, index);

	if (split->kind != TUN_SPLIT_TCP)
	{
		if (split->length)
		{
			memcpy(out, split->packet, split->length);
		}
		if (split->kind == TUN_SPLIT_CHECKSUM)
		{
			complete_checksum(split, out);
		}
		return;
	}

	memcpy(out, split->packet, split->header_length);
	memcpy(out + split->header_length,
		   split->packet + split->header_length + index * split->mss,
		   length - split->header_length);

	set_segment_fields(split, index, out, length);
	if (split->family == 4)
	{
		set_ipv4_checksum(out, split->ip_length);
	}
	set_tcp_checksum(out, split->family, split->ip_length, length);
}

/**
 * A TCP segment that may be merged with its neighbours.
 */
typedef struct {
	int family;
	size_t ip_length;
	size_t header_length;
	size_t payload;
	uint32_t seq;
	uint8_t flags;
} mergeable_t;

/**
 * Check whether a packet is a TCP segment that may be merged: IPv4 without
 * options or fragmentation, or IPv6 with TCP as the next header, lengths
 * that match the packet, only ACK and PSH set, a payload, and valid
 * checksums. Merging replaces the checksums, so a damaged packet must stay
 * alone for the kernel to drop it.
 */
static bool parse_mergeable(const tun_packet_t *packet, mergeable_t *segment)
{
	const uint8_t *p = packet->data;
	size_t length = packet->length;

	if (length < 1)
	{
		return false;
	}
	segment->family = p[0] >> 4;
	if ((segment->family != 4 && segment->family != 6) ||
		!tcp_headers(p, length, segment->family, false, &segment->ip_length,
					 &segment->header_length))
	{
		return false;
	}
	if (segment->family == 4)
	{
		/* like the kernel's GRO, no IPv4 flag but DF, not even the reserved one */
		if (segment->ip_length != IPV4_HEADER_LENGTH ||
			(get16(p + 6) & ~IPV4_DONT_FRAGMENT) != 0 ||
			get16(p + 2) != length ||
			fold(sum_bytes(p, IPV4_HEADER_LENGTH, 0)) != 0xffff)
		{
			return false;
		}
	}
	else if ((size_t)get16(p + 4) + IPV6_HEADER_LENGTH != length)
	{
		return false;
	}

	segment->flags = p[segment->ip_length + 13];
	segment->seq = get32(p + segment->ip_length + 4);
	segment->payload = length - segment->header_length;
	if ((segment->flags & ~(TCP_ACK | TCP_PSH)) != 0 ||
		!(segment->flags & TCP_ACK) || segment->payload == 0)
	{
		return false;
	}
	return fold(sum_bytes(p + segment->ip_length, length - segment->ip_length,
						  pseudo_header_sum(p, segment->family,
											length - segment->ip_length)))
		   == 0xffff;
}

/**
 * Check whether the IP headers of two segments of one group agree.
 */
static bool same_ip_header(const mergeable_t *a, const uint8_t *pa,
						   const uint8_t *pb)
{
	if (a->family == 4)
	{
		/* TOS, DF, TTL, protocol and addresses */
		return pa[1] == pb[1] &&
			   (get16(pa + 6) & IPV4_DONT_FRAGMENT) ==
			   (get16(pb + 6) & IPV4_DONT_FRAGMENT) &&
			   pa[8] == pb[8] && pa[9] == pb[9] &&
			   memcmp(pa + 12, pb + 12, 8) == 0;
	}
	/* version, traffic class, flow label, next header, hop limit, addresses */
	return memcmp(pa, pb, 4) == 0 && pa[6] == pb[6] && pa[7] == pb[7] &&
		   memcmp(pa + 8, pb + 8, 32) == 0;
}

/**
 * Check whether a segment continues a group: the same stream and headers,
 * the next sequence number and IPv4 identification, and a size that keeps
 * every segment but the last at the first one's size.
 *
 * @param first		first segment of the group
 * @param previous	last segment of the group
 * @param next		the candidate
 * @param total		packet length of the group so far
 */
static bool continues_group(const tun_packet_t *packets, size_t count,
							const mergeable_t *first,
							const mergeable_t *previous,
							const mergeable_t *next, size_t total)
{
	const uint8_t *pa = packets[0].data, *pp = packets[count - 1].data;
	const uint8_t *pb = packets[count].data;
	const uint8_t *ta = pa + first->ip_length, *tb = pb + next->ip_length;

	if (next->family != first->family ||
		next->header_length != first->header_length ||
		!same_ip_header(first, pa, pb) ||
		(first->family == 4 && get16(pb + 4) != (uint16_t)(get16(pp + 4) + 1)))
	{
		return false;
	}
	/* ports, acknowledgment number, data offset, window and options */
	if (memcmp(ta, tb, 4) != 0 || memcmp(ta + 8, tb + 8, 5) != 0 ||
		memcmp(ta + 14, tb + 14, 2) != 0 ||
		memcmp(ta + TCP_HEADER_LENGTH, tb + TCP_HEADER_LENGTH,
			   first->header_length - first->ip_length - TCP_HEADER_LENGTH) != 0)
	{
		return false;
	}
	if ((previous->flags & TCP_PSH) ||
		next->seq != previous->seq + (uint32_t)previous->payload ||
		previous->payload != first->payload ||
		next->payload > first->payload)
	{
		return false;
	}
	/* also keeps an IPv6 payload length below its limit */
	return total + next->payload <= IP_MAX_LENGTH;
}

/*
 * Described in header
 */
size_t tun_offload_group(const tun_packet_t *packets, size_t count)
{
	mergeable_t first, previous, next;
	size_t size = 1, total;

	if (count < 2 || !parse_mergeable(&packets[0], &first))
	{
		return 1;
	}
	previous = first;
	total = packets[0].length;
	while (size < count && size < TUN_OFFLOAD_MAX_COALESCE &&
		   parse_mergeable(&packets[size], &next) &&
		   continues_group(packets, size, &first, &previous, &next, total))
	{
		total += next.payload;
		previous = next;
		size++;
	}
	return size;
}

/*
 * Described in header
 */
size_t tun_offload_merged_length(const tun_packet_t *packets, size_t count)
{
	size_t length = TUN_OFFLOAD_HEADER_SIZE + packets[0].length;
	size_t header_length = 0, ip_length = 0, i;

	if (count < 2)
	{
		return length;
	}
	tcp_headers(packets[0].data, packets[0].length, packets[0].data[0] >> 4,
				false, &ip_length, &header_length);
	for (i = 1; i < count; i++)
	{
		length += packets[i].length - header_length;
	}
	return length;
}

/**
 * Write the virtio header that makes the kernel treat a merged packet as
 * TCP segments of mss payload bytes with a partial checksum.
 */
static void write_gso_header(uint8_t *out, int family, size_t ip_length,
							 size_t header_length, size_t mss)
{
	struct virtio_net_hdr header = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4
								: VIRTIO_NET_HDR_GSO_TCPV6,
		.hdr_len = (uint16_t)header_length,
		.gso_size = (uint16_t)mss,
		.csum_start = (uint16_t)ip_length,
		.csum_offset = TCP_CHECKSUM_OFFSET,
	};

	memcpy(out, &header, TUN_OFFLOAD_HEADER_SIZE);
}

/*
 * Described in header
 */
void tun_offload_merge(const tun_packet_t *packets, size_t count,
					   uint8_t *out)
{
	size_t ip_length = 0, header_length = 0, length, i;
	uint8_t *packet = out + TUN_OFFLOAD_HEADER_SIZE, *tcp;
	int family;

	if (count < 2)
	{
		memset(out, 0, TUN_OFFLOAD_HEADER_SIZE);
		/* an empty Uint8Array may have no memory at all */
		if (packets[0].length)
		{
			memcpy(packet, packets[0].data, packets[0].length);
		}
		return;
	}

	/* a group of two or more passed parse_mergeable() */
	family = packets[0].data[0] >> 4;
	tcp_headers(packets[0].data, packets[0].length, family, false, &ip_length,
				&header_length);
	write_gso_header(out, family, ip_length, header_length,
					 packets[0].length - header_length);

	memcpy(packet, packets[0].data, packets[0].length);
	length = packets[0].length;
	for (i = 1; i < count; i++)
	{
		memcpy(packet + length, packets[i].data + header_length,
			   packets[i].length - header_length);
		length += packets[i].length - header_length;
	}

	if (family == 4)
	{
		put16(packet + 2, (uint16_t)length);
		set_ipv4_checksum(packet, IPV4_HEADER_LENGTH);
	}
	else
	{
		put16(packet + 4, (uint16_t)(length - IPV6_HEADER_LENGTH));
	}

	/* PSH of the last segment; the kernel copies the flags to each */
	tcp = packet + ip_length;
	tcp[13] |= packets[count - 1].data[ip_length + 13] & TCP_PSH;

	/* for a partial checksum the field carries the pseudo-header sum, not
	 * complemented */
	store_checksum(tcp + TCP_CHECKSUM_OFFSET,
				   fold(pseudo_header_sum(packet, family, length - ip_length)));
}

/*
 * Described in header
 */
const char *tun_offload_error_text(tun_offload_error_t error)
{
	switch (error)
	{
		case TUN_OFFLOAD_OK:
			return "no error";
		case TUN_OFFLOAD_SHORT:
			return "the frame is shorter than its virtio header";
		case TUN_OFFLOAD_GSO_TYPE:
			return "the GSO type is not TCP over IPv4 or IPv6";
		case TUN_OFFLOAD_CSUM_RANGE:
			return "the checksum position lies outside the packet";
		case TUN_OFFLOAD_HEADERS:
			return "the IP and TCP headers do not match the GSO type";
		case TUN_OFFLOAD_SEGMENTS:
			return "the GSO size is 0 or gives too many segments";
	}
	return "unknown error";
}
