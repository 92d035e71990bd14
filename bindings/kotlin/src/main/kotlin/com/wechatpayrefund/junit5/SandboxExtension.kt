package com.wechatpayrefund.junit5

import com.wechatpayrefund.ClientConfig
import com.wechatpayrefund.RefundClient
import com.wechatpayrefund.Sandbox
import com.wechatpayrefund.SandboxCredentials
import com.wechatpayrefund.SandboxKeyMode
import com.wechatpayrefund.SandboxOptions
import org.junit.jupiter.api.extension.ExtensionContext
import org.junit.jupiter.api.extension.ParameterContext
import org.junit.jupiter.api.extension.ParameterResolutionException
import org.junit.jupiter.api.extension.ParameterResolver
import org.junit.platform.commons.support.AnnotationSupport
import java.lang.reflect.Constructor
import java.lang.reflect.Method
import com.wechatpayrefund.invoke

/**
 * A JUnit 5 extension that injects a running WeChat Pay refund [Sandbox] (a real HTTP server on
 * 127.0.0.1 inside the library, fresh test keys) into tests, and stops it afterwards.
 *
 * ```kotlin
 * @ExtendWith(SandboxExtension::class)
 * class RefundFlowTest {
 *     @Test
 *     fun refunds(sandbox: Sandbox, client: RefundClient) {
 *         sandbox.createOrder("T1001", 10000)
 *         val r = client.createRefund(CreateRefundRequest(outTradeNo = "T1001", outRefundNo = "R1",
 *             amount = RefundAmountInput(refund = 100, total = 10000)))
 *         assertEquals(RefundStatus.PROCESSING, r.status)
 *     }
 * }
 * ```
 *
 * Parameters it resolves: [Sandbox], [RefundClient] (configured for that sandbox, closed after),
 * [ClientConfig] and [SandboxCredentials] (the sandbox's TEST keys and base URL, to configure any
 * other client, e.g. your own service under test).
 *
 * Lifetime: a parameter of a test method (or `@BeforeEach`/`@AfterEach`) gets a sandbox for that
 * one test, stopped when the test ends. A parameter of the test class's constructor or of
 * `@BeforeAll`/`@AfterAll` gets one sandbox for the whole class, stopped after its last test; the
 * class's test methods then receive that same sandbox. Within one scope, every parameter refers
 * to the same sandbox. Options: [WechatpaySandbox] on the class or the method.
 *
 * Needs `org.junit.jupiter:junit-jupiter-api` (5.x) on the test classpath; the library declares it
 * `optional`, so only test code pulls it in.
 */
public class SandboxExtension : ParameterResolver {
    override fun supportsParameter(parameterContext: ParameterContext, extensionContext: ExtensionContext): Boolean =
        parameterContext.parameter.type in SUPPORTED

    override fun resolveParameter(parameterContext: ParameterContext, extensionContext: ExtensionContext): Any {
        val scope = if (isClassScoped(parameterContext)) classContext(extensionContext) else extensionContext
        val running = runningSandbox(scope, extensionContext)
        return when (val type = parameterContext.parameter.type) {
            Sandbox::class.java -> running.sandbox
            RefundClient::class.java -> running.client()
            ClientConfig::class.java -> running.sandbox.clientConfig()
            SandboxCredentials::class.java -> running.sandbox.credentials()
            else -> throw ParameterResolutionException("SandboxExtension cannot resolve $type")
        }
    }

    private fun isClassScoped(p: ParameterContext): Boolean = when (val e = p.declaringExecutable) {
        is Constructor<*> -> true
        is Method -> AnnotationSupport.isAnnotated(e, org.junit.jupiter.api.BeforeAll::class.java) ||
            AnnotationSupport.isAnnotated(e, org.junit.jupiter.api.AfterAll::class.java)
        else -> false
    }

    private fun classContext(context: ExtensionContext): ExtensionContext {
        var c = context
        while (c.testMethod.isPresent) c = c.parent.orElse(null) ?: break
        return c
    }

    /** The sandbox of [scope]: an enclosing scope's if one was started there, else a new one in [scope]. */
    private fun runningSandbox(scope: ExtensionContext, current: ExtensionContext): RunningSandbox {
        // Stores are hierarchical: a method's store also sees the class's entry.
        val store = scope.getStore(NAMESPACE)
        return store.getOrComputeIfAbsent(KEY, { RunningSandbox(start(optionsFor(current))) }, RunningSandbox::class.java)
    }

    private fun optionsFor(context: ExtensionContext): SandboxOptions {
        val annotation = context.testMethod.flatMap { AnnotationSupport.findAnnotation(it, WechatpaySandbox::class.java) }
            .or { context.testClass.flatMap { AnnotationSupport.findAnnotation(it, WechatpaySandbox::class.java) } }
        val a = annotation.orElse(null) ?: return SandboxOptions()
        return SandboxOptions(mode = a.mode, tls = a.tls, mchid = a.mchid.ifEmpty { null })
    }

    private fun start(options: SandboxOptions): Sandbox = Sandbox.startWith(options)

    /**
     * Held in the JUnit store: JUnit closes it when the scope ends (test or class). Both interfaces:
     * JUnit 5.13+ closes AutoCloseable values, older 5.x only CloseableResource; close is idempotent.
     */
    @Suppress("DEPRECATION")
    internal class RunningSandbox(val sandbox: Sandbox) : ExtensionContext.Store.CloseableResource, AutoCloseable {
        private var client: RefundClient? = null
        private var closed = false

        @Synchronized
        fun client(): RefundClient = client ?: RefundClient(sandbox.clientConfig()).also { client = it }

        @Synchronized
        override fun close() {
            if (closed) return
            closed = true
            client?.close()
            client = null
            sandbox.stop()
            sandbox.close()
        }
    }

    private companion object {
        val NAMESPACE: ExtensionContext.Namespace = ExtensionContext.Namespace.create(SandboxExtension::class.java)
        const val KEY = "sandbox"
        val SUPPORTED = setOf(Sandbox::class.java, RefundClient::class.java, ClientConfig::class.java, SandboxCredentials::class.java)
    }
}

/**
 * Options of the sandbox [SandboxExtension] starts for the annotated test class or method
 * (a method's annotation wins over its class's).
 */
@Target(AnnotationTarget.CLASS, AnnotationTarget.FUNCTION)
@Retention(AnnotationRetention.RUNTIME)
@MustBeDocumented
public annotation class WechatpaySandbox(
    /** Key mode: public key (default), platform certificate, or both (a migration). */
    val mode: SandboxKeyMode = SandboxKeyMode.PUBLIC_KEY,
    /** Serve HTTPS with a generated test CA (`credentials().tlsCaPem`; the sandbox's `clientConfig()` trusts it). */
    val tls: Boolean = false,
    /** Merchant id; empty: the sandbox's default (`1900000001`). */
    val mchid: String = "",
)
