/*
 * Copyright (C) 2026 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

/**
 * @defgroup tun_offload tun_offload
 * TCP segmentation and checksum offload for a TUN device (IFF_VNET_HDR).
 *
 * With IFF_VNET_HDR every packet read from or written to the device
 * starts with a struct virtio_net_hdr. After TUNSETOFFLOAD the kernel may
 * hand over one large TCP packet (up to 64 KiB) instead of many segments,
 * and a packet whose checksum is only partly computed. This module turns
 * such a frame back into the segments the kernel would have sent, with
 * full checksums, before they are protected. In the other direction it
 * merges consecutive segments of one TCP stream into one large packet, so
 * the kernel passes them up its stack once instead of once per segment.
 *
 * Nothing here calls Node-API, so the rules can be read and tested on
 * their own.
 *
 * @{ @ingroup lupina_native
 */

#ifndef LUPINA_TUN_OFFLOAD_H_
#define LUPINA_TUN_OFFLOAD_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>

/** Bytes of the header before each packet on the device */
#define TUN_OFFLOAD_HEADER_SIZE sizeof(struct virtio_net_hdr)

/**
 * Most segments one frame may split into. A 64 KiB packet with the
 * smallest IPv4 MSS the kernel uses (88 bytes) gives 745.
 */
#define TUN_OFFLOAD_MAX_SEGMENTS 1024

/** Most packets merged into one frame */
#define TUN_OFFLOAD_MAX_COALESCE 64

/**
 * Result of checking a frame read from the device: OK, or the reason it
 * cannot be split.
 */
typedef enum {
	TUN_OFFLOAD_OK = 0,
	/** shorter than the virtio header */
	TUN_OFFLOAD_SHORT,
	/** a GSO type other than TCP over IPv4 or IPv6 */
	TUN_OFFLOAD_GSO_TYPE,
	/** the checksum position lies outside the packet */
	TUN_OFFLOAD_CSUM_RANGE,
	/** the IP or TCP header does not match the GSO type */
	TUN_OFFLOAD_HEADERS,
	/** a GSO size of 0, or too many segments */
	TUN_OFFLOAD_SEGMENTS,
} tun_offload_error_t;

/**
 * Kind of work that splitting a frame needs.
 */
typedef enum {
	/** one packet, copied as it is */
	TUN_SPLIT_COPY,
	/** one packet whose checksum must be completed */
	TUN_SPLIT_CHECKSUM,
	/** TCP segmentation into count packets */
	TUN_SPLIT_TCP,
} tun_split_kind_t;

/**
 * How to split one frame, from tun_offload_split_plan().
 */
typedef struct {
	/** the packet after the virtio header */
	const uint8_t *packet;
	/** its length */
	size_t length;
	/** what to do */
	tun_split_kind_t kind;
	/** number of packets the frame gives */
	size_t count;
	/** TUN_SPLIT_CHECKSUM: where checksumming starts */
	size_t csum_start;
	/** TUN_SPLIT_CHECKSUM: offset of the checksum field from csum_start */
	size_t csum_offset;
	/** TUN_SPLIT_TCP: 4 or 6 */
	int family;
	/** TUN_SPLIT_TCP: length of the IP header */
	size_t ip_length;
	/** TUN_SPLIT_TCP: length of the IP and TCP headers */
	size_t header_length;
	/** TUN_SPLIT_TCP: TCP payload bytes per segment, the last may have fewer */
	size_t mss;
} tun_split_t;

/**
 * A packet to write, for tun_offload_group() and tun_offload_merge().
 */
typedef struct {
	const uint8_t *data;
	size_t length;
} tun_packet_t;

/**
 * Check a frame read from the device and decide how to split it.
 *
 * @param frame		virtio header and packet
 * @param length	length of frame
 * @param split		receives the plan, valid while frame is
 * @return			TUN_OFFLOAD_OK, or why the frame must be dropped
 */
tun_offload_error_t tun_offload_split_plan(const uint8_t *frame,
										   size_t length, tun_split_t *split);

/**
 * Length of one packet of a split frame.
 *
 * @param split		plan from tun_offload_split_plan()
 * @param index		0 to split->count - 1
 * @return			length in bytes
 */
size_t tun_offload_segment_length(const tun_split_t *split, size_t index);

/**
 * Write one packet of a split frame, with its lengths, sequence number,
 * flags and checksums set as the kernel's own segmentation sets them.
 *
 * @param split		plan from tun_offload_split_plan()
 * @param index		0 to split->count - 1
 * @param out		tun_offload_segment_length() bytes
 */
void tun_offload_segment_build(const tun_split_t *split, size_t index,
							   uint8_t *out);

/**
 * Count the packets at the start of a list that can be merged into one
 * frame: segments of one TCP stream in sequence, with equal headers apart
 * from lengths, IPv4 identification and checksums, all but the last of
 * the same size, and valid checksums. A packet that does not qualify
 * forms a group of its own.
 *
 * @param packets	packets to write, in order
 * @param count		number of packets, at least 1
 * @return			size of the first group, 1 to TUN_OFFLOAD_MAX_COALESCE
 */
size_t tun_offload_group(const tun_packet_t *packets, size_t count);

/**
 * Length of the frame that tun_offload_merge() writes for a group.
 *
 * @param packets	the group
 * @param count		its size
 * @return			length in bytes, at most TUN_OFFLOAD_HEADER_SIZE + 65535
 */
size_t tun_offload_merged_length(const tun_packet_t *packets, size_t count);

/**
 * Write the frame for a group from tun_offload_group(): a virtio header
 * and the packet itself if count is 1, otherwise a header that marks the
 * merged packet as TCP segments, and the merged packet.
 *
 * @param packets	the group
 * @param count		its size
 * @param out		tun_offload_merged_length() bytes
 */
void tun_offload_merge(const tun_packet_t *packets, size_t count,
					   uint8_t *out);

/**
 * Describe an error of tun_offload_split_plan().
 *
 * @param error		the error
 * @return			static text
 */
const char *tun_offload_error_text(tun_offload_error_t error);

#endif /** LUPINA_TUN_OFFLOAD_H_ @}*/
