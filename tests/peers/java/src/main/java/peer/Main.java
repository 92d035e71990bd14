package peer;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.wechat.pay.java.core.RSAPublicKeyConfig;
import com.wechat.pay.java.core.exception.ServiceException;
import com.wechat.pay.java.core.http.AbstractHttpClient;
import com.wechat.pay.java.core.http.DefaultHttpClientBuilder;
import com.wechat.pay.java.core.http.HttpMethod;
import com.wechat.pay.java.core.http.HttpRequest;
import com.wechat.pay.java.core.http.JsonRequestBody;
import com.wechat.pay.java.core.notification.NotificationParser;
import com.wechat.pay.java.core.notification.RequestParam;
import com.wechat.pay.java.core.cipher.PrivacyEncryptor;
import com.wechat.pay.java.service.refund.RefundService;
import com.wechat.pay.java.service.refund.model.AmountReq;
import com.wechat.pay.java.service.refund.model.CreateRequest;
import com.wechat.pay.java.service.refund.model.QueryByOutRefundNoRequest;
import com.wechat.pay.java.service.refund.model.Refund;
import com.wechat.pay.java.service.refund.model.RefundNotification;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.Map;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;

/**
 * wechatpay-java against the standalone sandbox: its OkHttp client is redirected with an
 * interceptor (never patched); the sandbox is driven through its control API. Exits 1 on the
 * first disagreement.
 */
public final class Main {
    private static final Gson GSON = new Gson();

    static void check(boolean ok, String what) {
        if (!ok) {
            System.err.println("FAIL: " + what);
            System.exit(1);
        }
        System.out.println("ok: " + what);
    }

    static JsonObject control(String base, String method, String path, Object body) throws Exception {
        var b = java.net.http.HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json");
        b = body == null ? b.method(method, java.net.http.HttpRequest.BodyPublishers.noBody())
                : b.method(method, java.net.http.HttpRequest.BodyPublishers.ofString(GSON.toJson(body)));
        HttpResponse<String> r = HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonObject o = r.body().isEmpty() ? new JsonObject() : GSON.fromJson(r.body(), JsonObject.class);
        o.addProperty("_status", r.statusCode());
        return o;
    }

    static AbstractHttpClient client(RSAPublicKeyConfig config, HttpUrl to) {
        OkHttpClient ok = new OkHttpClient.Builder().addInterceptor(chain -> chain.proceed(chain.request().newBuilder()
                .url(chain.request().url().newBuilder().scheme(to.scheme()).host(to.host()).port(to.port()).build())
                .build())).build();
        return new DefaultHttpClientBuilder().config(config).okHttpClient(ok).build();
    }

    static RSAPublicKeyConfig config(Map<String, String> c, String privateKey) {
        return new RSAPublicKeyConfig.Builder().merchantId(c.get("mchid")).privateKey(privateKey)
                .merchantSerialNumber(c.get("merchant_serial_no")).publicKey(c.get("wechatpay_public_key_pem"))
                .publicKeyId(c.get("wechatpay_public_key_id")).apiV3Key(c.get("api_v3_key")).build();
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        String base = args[0];
        Map<String, Object> raw = GSON.fromJson(Files.readString(Path.of(args[1])), Map.class);
        Map<String, String> c = new java.util.HashMap<>();
        raw.forEach((k, v) -> { if (v instanceof String s) c.put(k, s); });
        HttpUrl to = HttpUrl.get(base);
        RSAPublicKeyConfig config = config(c, c.get("merchant_private_key_pem"));
        AbstractHttpClient http = client(config, to);
        RefundService svc = new RefundService.Builder().httpClient(http).build();

        check(control(base, "POST", "/sandbox/v1/orders", Map.of("out_trade_no", "T20261124001", "total", 10000))
                .get("_status").getAsInt() == 201, "order created through the control API");
        String no = "R|*@20261124";
        CreateRequest req = new CreateRequest();
        req.setOutTradeNo("T20261124001");
        req.setOutRefundNo(no);
        AmountReq amount = new AmountReq();
        amount.setRefund(100L);
        amount.setTotal(10000L);
        amount.setCurrency("CNY");
        req.setAmount(amount);
        Refund r = svc.create(req);
        check(no.equals(r.getOutRefundNo()), "apply refund with |*@");
        check(r.getRefundId().equals(svc.create(req).getRefundId()), "idempotent re-apply");
        QueryByOutRefundNoRequest q = new QueryByOutRefundNoRequest();
        q.setOutRefundNo(no);
        check(no.equals(svc.queryByOutRefundNo(q).getOutRefundNo()), "query refund with |*@");

        CreateRequest unknown = new CreateRequest();
        unknown.setOutTradeNo("T-NO-SUCH-ORDER");
        unknown.setOutRefundNo("R-unknown");
        unknown.setAmount(amount);
        try {
            svc.create(unknown);
            check(false, "unknown order: an error");
        } catch (ServiceException e) {
            check(e.getHttpStatusCode() == 404, "unknown order: the SDK's ServiceException with 404");
        }

        // Abnormal refund, bank fields encrypted by the SDK's own encryptor.
        String path = URLEncoder.encode(no, StandardCharsets.UTF_8).replace("*", "%2A");
        check(control(base, "POST", "/sandbox/v1/refunds/" + path + "/status", Map.of("status", "ABNORMAL"))
                .get("_status").getAsInt() == 200, "refund made ABNORMAL through the control API");
        PrivacyEncryptor enc = config.createEncryptor();
        String body = GSON.toJson(Map.of("out_refund_no", no, "type", "USER_BANK_CARD", "bank_type", "ICBC_DEBIT",
                "bank_account", enc.encrypt("6212262000000000000"), "real_name", enc.encrypt("张三")));
        HttpRequest abnormal = new HttpRequest.Builder().httpMethod(HttpMethod.POST)
                .url("https://api.mch.weixin.qq.com/v3/refund/domestic/refunds/" + r.getRefundId() + "/apply-abnormal-refund")
                .addHeader("Accept", "application/json").addHeader("Content-Type", "application/json")
                .addHeader("Wechatpay-Serial", enc.getWechatpaySerial())
                .body(new JsonRequestBody.Builder().body(body).build()).build();
        Refund after = http.execute(abnormal, Refund.class).getServiceResponse();
        check("PROCESSING".equals(String.valueOf(after.getStatus())), "abnormal refund with SDK-encrypted fields");

        // A notification parsed by the SDK's own parser; a tampered one rejected.
        control(base, "POST", "/sandbox/v1/refunds/" + path + "/status", Map.of("status", "SUCCESS"));
        JsonObject n = control(base, "GET", "/sandbox/v1/refunds/" + path + "/notification", null);
        JsonObject h = n.getAsJsonObject("headers");
        NotificationParser parser = new NotificationParser(config);
        java.util.function.Function<String, RequestParam> param = b -> new RequestParam.Builder()
                .serialNumber(h.get("Wechatpay-Serial").getAsString()).nonce(h.get("Wechatpay-Nonce").getAsString())
                .signature(h.get("Wechatpay-Signature").getAsString()).timestamp(h.get("Wechatpay-Timestamp").getAsString())
                .signType(h.get("Wechatpay-Signature-Type").getAsString()).body(b).build();
        String notification = n.get("body").getAsString();
        RefundNotification note = parser.parse(param.apply(notification), RefundNotification.class);
        check(no.equals(note.getOutRefundNo()) && "SUCCESS".equals(String.valueOf(note.getRefundStatus())),
                "notification parsed by the SDK");
        String tampered = notification.replace("REFUND.SUCCESS", "REFUND.CLOSED");
        try {
            parser.parse(param.apply(tampered), RefundNotification.class);
            check(false, "tampered notification rejected by the SDK");
        } catch (RuntimeException e) {
            check(!tampered.equals(notification), "tampered notification rejected by the SDK");
        }

        // Signed with the wrong key: 401 SIGN_ERROR.
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        String other = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(g.generateKeyPair().getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        RefundService wrong = new RefundService.Builder().httpClient(client(config(c, other), to)).build();
        try {
            wrong.queryByOutRefundNo(q);
            check(false, "wrong key: an error");
        } catch (ServiceException e) {
            check(e.getHttpStatusCode() == 401 && "SIGN_ERROR".equals(e.getErrorCode()), "wrong key: 401 SIGN_ERROR");
        }
        System.out.println("wechatpay-java peer: all checks passed");
    }
}
