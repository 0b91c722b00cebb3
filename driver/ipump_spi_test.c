// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the ipump SPI transport frames (host side, ipump_spi.c):
 * CRC against known vectors, request encoding, response decoding with
 * every status, and detection of corrupted, foreign and empty responses.
 * Part of ipump_kunit.ko (CONFIG_IPUMP_KUNIT_TEST), linked against
 * ipump_spi.ko.
 */
#include <kunit/test.h>
#include <linux/errno.h>
#include <linux/module.h>
#include <linux/string.h>

#include "ipump_regs.h"
#include "ipump_spi_frame.h"

/* write IPUMP_WDT_KICK to WDT_KEEPALIVE (0x03c), sequence 5 */
static const u8 kick_req[IPUMP_SPI_REQ_LEN] = {
	0x85, 0x3c, 0x00, 0x4b, 0x43, 0x49, 0x4b, 0xf3, 0x5e,
};

/* read ID (0x000), sequence 1, and the card's OK answer "IPMP" */
static const u8 id_req[IPUMP_SPI_REQ_LEN] = {
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa5, 0x13,
};

static const u8 id_rsp[IPUMP_SPI_RSP_LEN] = {
	0x11, 0x50, 0x4d, 0x50, 0x49, 0xe5, 0x9d,
};

/* 6.1's KUnit has no KUNIT_EXPECT_MEMEQ */
static void expect_bytes(struct kunit *test, const u8 *got, const u8 *want,
			 size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		KUNIT_EXPECT_EQ_MSG(test, got[i], want[i], "byte %zu", i);
}

/* The card's side, written out here so that the test does not trust it. */
static void card_rsp(const u8 req[IPUMP_SPI_REQ_LEN], u8 seq, u8 status,
		     u32 data, u8 rsp[IPUMP_SPI_RSP_LEN])
{
	u8 buf[8];
	u16 crc;

	rsp[0] = seq << 4 | status;
	rsp[1] = data;
	rsp[2] = data >> 8;
	rsp[3] = data >> 16;
	rsp[4] = data >> 24;
	memcpy(buf, req, 3);
	memcpy(buf + 3, rsp, 5);
	crc = ipump_spi_crc(buf, sizeof(buf));
	rsp[5] = crc;
	rsp[6] = crc >> 8;
}

static void spi_crc_check_value(struct kunit *test)
{
	/* the catalogued check value of CRC-16/X-25 */
	KUNIT_EXPECT_EQ(test, ipump_spi_crc((const u8 *)"123456789", 9), 0x906e);
	/* the CRC of nothing is init ^ final xor */
	KUNIT_EXPECT_EQ(test, ipump_spi_crc(NULL, 0), 0x0000);
}

static void spi_crc_detects_every_single_bit_flip(struct kunit *test)
{
	u8 buf[IPUMP_SPI_REQ_LEN];
	unsigned int bit;
	u16 good = ipump_spi_crc(kick_req, 7);

	for (bit = 0; bit < 7 * 8; bit++) {
		memcpy(buf, kick_req, sizeof(buf));
		buf[bit / 8] ^= BIT(bit % 8);
		KUNIT_EXPECT_NE_MSG(test, ipump_spi_crc(buf, 7), good,
				    "bit %u", bit);
	}
}

static void spi_req_encode_vectors(struct kunit *test)
{
	struct ipump_spi_req kick = {
		.write = true, .seq = 5, .addr = IPUMP_REG_WDT_KEEPALIVE,
		.data = IPUMP_WDT_KICK,
	};
	struct ipump_spi_req id = { .seq = 1, .addr = IPUMP_REG_ID };
	u8 buf[IPUMP_SPI_REQ_LEN];

	ipump_spi_req_encode(&kick, buf);
	expect_bytes(test, buf, kick_req, sizeof(buf));
	ipump_spi_req_encode(&id, buf);
	expect_bytes(test, buf, id_req, sizeof(buf));
}

static void spi_req_encode_fields(struct kunit *test)
{
	struct ipump_spi_req req = {
		.write = false, .seq = 0x1f, .addr = IPUMP_REG_MAX,
		.data = 0xdeadbeef,
	};
	u8 buf[IPUMP_SPI_REQ_LEN];

	ipump_spi_req_encode(&req, buf);
	/* sequence taken modulo 16, reserved bits stay clear */
	KUNIT_EXPECT_EQ(test, buf[0], 0x0f);
	KUNIT_EXPECT_EQ(test, buf[1], IPUMP_REG_MAX & 0xff);
	KUNIT_EXPECT_EQ(test, buf[2], IPUMP_REG_MAX >> 8);
	KUNIT_EXPECT_EQ(test, buf[3], 0xef);
	KUNIT_EXPECT_EQ(test, buf[6], 0xde);
	KUNIT_EXPECT_EQ(test, ipump_spi_crc(buf, 7), buf[7] | buf[8] << 8);
}

static void spi_rsp_decode_vector(struct kunit *test)
{
	struct ipump_spi_rsp rsp;

	KUNIT_ASSERT_EQ(test, ipump_spi_rsp_decode(id_req, id_rsp, &rsp), 0);
	KUNIT_EXPECT_EQ(test, rsp.seq, 1);
	KUNIT_EXPECT_EQ(test, rsp.status, IPUMP_SPI_ST_OK);
	KUNIT_EXPECT_EQ(test, rsp.data, IPUMP_ID_MAGIC);
}

static void spi_rsp_decode_detects_every_single_bit_flip(struct kunit *test)
{
	u8 buf[IPUMP_SPI_RSP_LEN];
	struct ipump_spi_rsp rsp;
	unsigned int bit;

	for (bit = 0; bit < IPUMP_SPI_RSP_LEN * 8; bit++) {
		memcpy(buf, id_rsp, sizeof(buf));
		buf[bit / 8] ^= BIT(bit % 8);
		KUNIT_EXPECT_EQ_MSG(test, ipump_spi_rsp_decode(id_req, buf, &rsp),
				    -EBADMSG, "bit %u", bit);
	}
}

/* A correct answer to another request (other address) is refused. */
static void spi_rsp_decode_foreign_answer(struct kunit *test)
{
	u8 other[IPUMP_SPI_REQ_LEN], buf[IPUMP_SPI_RSP_LEN];
	struct ipump_spi_req req = { .seq = 1, .addr = IPUMP_REG_MAP_VERSION };
	struct ipump_spi_rsp rsp;

	ipump_spi_req_encode(&req, other);
	card_rsp(other, 1, IPUMP_SPI_ST_OK, IPUMP_ID_MAGIC, buf);
	KUNIT_EXPECT_EQ(test, ipump_spi_rsp_decode(other, buf, &rsp), 0);
	KUNIT_EXPECT_EQ(test, ipump_spi_rsp_decode(id_req, buf, &rsp), -EBADMSG);
}

static void spi_rsp_decode_wrong_sequence(struct kunit *test)
{
	u8 buf[IPUMP_SPI_RSP_LEN];
	struct ipump_spi_rsp rsp;

	card_rsp(id_req, 2, IPUMP_SPI_ST_OK, 0, buf);
	KUNIT_EXPECT_EQ(test, ipump_spi_rsp_decode(id_req, buf, &rsp), -EPROTO);
	card_rsp(id_req, 1, IPUMP_SPI_ST_OK, 0, buf);
	KUNIT_EXPECT_EQ(test, ipump_spi_rsp_decode(id_req, buf, &rsp), 0);
}

static void spi_rsp_decode_idle_line(struct kunit *test)
{
	u8 buf[IPUMP_SPI_RSP_LEN];
	struct ipump_spi_rsp rsp;

	memset(buf, 0x00, sizeof(buf));
	KUNIT_EXPECT_EQ(test, ipump_spi_rsp_decode(id_req, buf, &rsp), -ENODATA);
	memset(buf, 0xff, sizeof(buf));
	KUNIT_EXPECT_EQ(test, ipump_spi_rsp_decode(id_req, buf, &rsp), -ENODATA);
	/* one byte off the idle level and it is a (bad) frame */
	buf[3] = 0xfe;
	KUNIT_EXPECT_EQ(test, ipump_spi_rsp_decode(id_req, buf, &rsp), -EBADMSG);
}

static void spi_rsp_each_status(struct kunit *test)
{
	static const struct {
		u8 status;
		int decode;
		int check;
	} cases[] = {
		{ 0x0, -EPROTO, -EIO },
		{ IPUMP_SPI_ST_OK, 0, 0 },
		{ IPUMP_SPI_ST_BAD_CRC, 0, -EAGAIN },
		{ IPUMP_SPI_ST_BAD_ADDR, 0, -EIO },
		{ IPUMP_SPI_ST_BUSY, 0, -EAGAIN },
		{ IPUMP_SPI_ST_BAD_CMD, 0, -EIO },
		{ IPUMP_SPI_ST_FAULT, 0, -EAGAIN },
		{ 0x7, -EPROTO, -EIO },
		{ 0xf, -EPROTO, -EIO },
	};
	u8 buf[IPUMP_SPI_RSP_LEN];
	struct ipump_spi_rsp rsp;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		card_rsp(id_req, 1, cases[i].status, 0x1234, buf);
		KUNIT_EXPECT_EQ_MSG(test, ipump_spi_rsp_decode(id_req, buf, &rsp),
				    cases[i].decode, "status %#x", cases[i].status);
		KUNIT_EXPECT_EQ_MSG(test, ipump_spi_status_check(cases[i].status),
				    cases[i].check, "status %#x", cases[i].status);
		if (!cases[i].decode) {
			KUNIT_EXPECT_EQ(test, rsp.status, cases[i].status);
			KUNIT_EXPECT_EQ(test, rsp.data, 0x1234);
		}
	}
}

static struct kunit_case ipump_spi_frame_cases[] = {
	KUNIT_CASE(spi_crc_check_value),
	KUNIT_CASE(spi_crc_detects_every_single_bit_flip),
	KUNIT_CASE(spi_req_encode_vectors),
	KUNIT_CASE(spi_req_encode_fields),
	KUNIT_CASE(spi_rsp_decode_vector),
	KUNIT_CASE(spi_rsp_decode_detects_every_single_bit_flip),
	KUNIT_CASE(spi_rsp_decode_foreign_answer),
	KUNIT_CASE(spi_rsp_decode_wrong_sequence),
	KUNIT_CASE(spi_rsp_decode_idle_line),
	KUNIT_CASE(spi_rsp_each_status),
	{ }
};

static struct kunit_suite ipump_spi_frame_suite = {
	.name = "ipump_spi_frame",
	.test_cases = ipump_spi_frame_cases,
};

kunit_test_suites(&ipump_spi_frame_suite);

MODULE_IMPORT_NS(IPUMP_INTERNAL);
