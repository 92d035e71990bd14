package com.wechatpayrefund.test

import com.wechatpayrefund.ClientConfig
import com.wechatpayrefund.CreateRefundRequest
import com.wechatpayrefund.RefundAmountInput
import com.wechatpayrefund.RefundClient
import com.wechatpayrefund.RefundException
import com.wechatpayrefund.Sandbox
import com.wechatpayrefund.SandboxKeyMode
import com.wechatpayrefund.SandboxOptions
import com.wechatpayrefund.WechatpayPublicKey
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import com.wechatpayrefund.invoke

/** Platform certificates downloaded and rotated, several WeChat Pay public keys (issue 11). */
@Timeout(120)
class CertificatesTest {
    private fun merchant(sb: Sandbox, publicKeys: List<WechatpayPublicKey> = emptyList(), download: Boolean = false): ClientConfig {
        val c = sb.credentials()
        return ClientConfig(
            mchid = c.mchid, merchantSerialNo = c.merchantSerialNo,
            merchantPrivateKeyPem = c.merchantPrivateKeyPem, apiV3Key = c.apiV3Key,
            wechatpayPublicKeys = publicKeys, downloadPlatformCertificates = download, baseUrl = c.baseUrl,
            options = com.wechatpayrefund.ClientOptions(platformTrustAnchorsPem = c.platformTrustAnchorsPem),
        )
    }

    private fun refund(no: String) =
        CreateRefundRequest(outTradeNo = "T20261124001", outRefundNo = no, amount = RefundAmountInput(refund = 1, total = 10000))

    @Test
    fun `certificates are downloaded on first use and refreshed after a rotation`() {
        val sb = Sandbox.startWith(SandboxOptions(mode = SandboxKeyMode.CERTIFICATE))
        try {
            sb.createOrder("T20261124001", 10000)
            val config = merchant(sb, download = true)
            val client = RefundClient(config)
            client.createRefund(refund("R1"))
            assertEquals(listOf(sb.credentials().platformCertificateSerialNo), config.platformCertificates().map { it.serialNo })
            val newSerial = sb.rotatePlatformCertificate()
            assertEquals("R1", client.queryRefund("R1").outRefundNo)
            assertTrue(config.platformCertificates().any { it.serialNo == newSerial })
            assertTrue(config.platformCertificates().all { it.notBefore < it.notAfter })
        } finally {
            sb.stop()
        }
    }

    @Test
    fun `a public-key rotation with several keys`() {
        val sb = Sandbox.start()
        try {
            sb.createOrder("T20261124001", 10000)
            val c = sb.credentials()
            val config = merchant(sb, publicKeys = listOf(WechatpayPublicKey(id = c.wechatpayPublicKeyId!!, pem = c.wechatpayPublicKeyPem!!)))
            val client = RefundClient(config)
            client.createRefund(refund("R2"))
            val newId = sb.rotateWechatpayPublicKey()
            config.addWechatpayPublicKey(newId, sb.credentials().wechatpayPublicKeyPem!!)
            client.queryRefund("R2")
            sb.expireWechatpayPublicKey(c.wechatpayPublicKeyId!!)
            config.removeWechatpayKey(c.wechatpayPublicKeyId!!)
            assertEquals(listOf(newId), config.wechatpayKeyIds())
            client.queryRefund("R2")
            assertThrows(RefundException.Config::class.java) { config.removeWechatpayKey(newId) }
        } finally {
            sb.stop()
        }
    }
}
