/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipump SPI transport: frame layout, shared by the SPI glue (host side,
 * ipump_spi.c), the simulated SPI controller (card side, ipump_sim_spi.c)
 * and the KUnit tests. Documented in Documentation/hardware/register-map.rst
 * ("SPI transport"); this header and that document must change together.
 *
 * Request (host -> card, MOSI), 9 bytes:
 *   cmd(1) | addr(2, LE) | data(4, LE) | crc(2, LE) over cmd..data
 * Response (card -> host, MISO, clocked after the request with chip select
 * still asserted), 7 bytes:
 *   status(1) | data(4, LE) | crc(2, LE) over the request's cmd and addr,
 *   then status and data
 * CRC: CRC-16/X-25 (polynomial 0x1021 reflected, init 0xffff, final xor
 * 0xffff; "123456789" -> 0x906e), computed with the kernel's crc_ccitt().
 */
#ifndef _IPUMP_SPI_FRAME_H
#define _IPUMP_SPI_FRAME_H

#include <linux/bits.h>
#include <linux/types.h>

#define IPUMP_SPI_REQ_LEN		9
#define IPUMP_SPI_RSP_LEN		7

/* request command byte */
#define IPUMP_SPI_CMD_WRITE		BIT(7)	/* 1 = write, 0 = read */
#define IPUMP_SPI_CMD_RSVD		GENMASK(6, 4)	/* must be 0 */
#define IPUMP_SPI_CMD_SEQ		GENMASK(3, 0)	/* transaction sequence */

/* response status byte: sequence echo and status code */
#define IPUMP_SPI_RSP_SEQ		GENMASK(7, 4)
#define IPUMP_SPI_RSP_CODE		GENMASK(3, 0)

/*
 * Status codes. 0x0 and 0xf are never sent: they are what an idle or
 * stuck MISO line reads as.
 */
enum ipump_spi_status {
	IPUMP_SPI_ST_OK		= 0x1,	/* done; data valid for reads */
	IPUMP_SPI_ST_BAD_CRC	= 0x2,	/* request CRC wrong, not executed */
	IPUMP_SPI_ST_BAD_ADDR	= 0x3,	/* no register there, not executed */
	IPUMP_SPI_ST_BUSY	= 0x4,	/* card busy, not executed */
	IPUMP_SPI_ST_BAD_CMD	= 0x5,	/* reserved command bits set */
	IPUMP_SPI_ST_FAULT	= 0x6,	/* card-internal access error */
};

/* Minimum time between the end of a request and the first response byte. */
#define IPUMP_SPI_TURNAROUND_US		2

/* Attempts per register access: the first one and up to 3 retries. */
#define IPUMP_SPI_MAX_ATTEMPTS		4

struct ipump_spi_req {
	bool write;
	u8 seq;			/* 0..15 */
	u16 addr;
	u32 data;		/* 0 for reads */
};

struct ipump_spi_rsp {
	u8 seq;
	u8 status;		/* enum ipump_spi_status */
	u32 data;
};

u16 ipump_spi_crc(const u8 *buf, size_t len);
void ipump_spi_req_encode(const struct ipump_spi_req *req,
			  u8 buf[IPUMP_SPI_REQ_LEN]);
int ipump_spi_rsp_decode(const u8 req[IPUMP_SPI_REQ_LEN],
			 const u8 buf[IPUMP_SPI_RSP_LEN],
			 struct ipump_spi_rsp *rsp);
int ipump_spi_status_check(u8 status);

#endif /* _IPUMP_SPI_FRAME_H */
