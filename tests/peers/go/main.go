// The official Go SDK, wechatpay-go v0.2.21 (Go module proxy, unmodified), against the
// standalone sandbox (issue 13.3). Its HTTP client is redirected with a RoundTripper that
// rewrites scheme and host; the sandbox is driven through its control API. Run by
// scripts/test-peers: `go run . <base_url> <credentials.json>`; exits 1 on the first disagreement.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/notify"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/services/refunddomestic"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"
)

type redirect struct{ to *url.URL }

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = r.to.Scheme, r.to.Host, r.to.Host
	return http.DefaultTransport.RoundTrip(req)
}

// short keeps an error's first line (the SDK's APIError prints every header).
func short(err error) string {
	if err == nil {
		return "no error"
	}
	return strings.SplitN(err.Error(), "\n", 2)[0]
}

func check(ok bool, what string, args ...interface{}) {
	if !ok {
		fmt.Fprintf(os.Stderr, "FAIL: "+what+"\n", args...)
		os.Exit(1)
	}
	fmt.Printf("ok: "+what+"\n", args...)
}

func control(base, method, path string, body interface{}) (int, map[string]interface{}) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		check(false, "control %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := map[string]interface{}{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func main() {
	base := os.Args[1]
	var c map[string]string
	raw, _ := os.ReadFile(os.Args[2])
	var any map[string]interface{}
	_ = json.Unmarshal(raw, &any)
	c = map[string]string{}
	for k, v := range any {
		if s, ok := v.(string); ok {
			c[k] = s
		}
	}
	ctx := context.Background()
	to, _ := url.Parse(base)
	key, err := utils.LoadPrivateKey(c["merchant_private_key_pem"])
	check(err == nil, "merchant key loads")
	pub, err := utils.LoadPublicKey(c["wechatpay_public_key_pem"])
	check(err == nil, "WeChat Pay public key loads")
	client, err := core.NewClient(ctx,
		option.WithWechatPayPublicKeyAuthCipher(c["mchid"], c["merchant_serial_no"], key, c["wechatpay_public_key_id"], pub),
		option.WithHTTPClient(&http.Client{Transport: redirect{to}}))
	check(err == nil, "client")
	svc := refunddomestic.RefundsApiService{Client: client}

	s, _ := control(base, "POST", "/sandbox/v1/orders", map[string]interface{}{"out_trade_no": "T20261124001", "total": 10000})
	check(s == 201, "order created through the control API")

	no := "R|*@20261124"
	req := refunddomestic.CreateRequest{
		OutTradeNo: core.String("T20261124001"), OutRefundNo: core.String(no),
		Amount: &refunddomestic.AmountReq{Refund: core.Int64(100), Total: core.Int64(10000), Currency: core.String("CNY")},
	}
	r, _, err := svc.Create(ctx, req)
	check(err == nil && *r.OutRefundNo == no, "apply refund with |*@ (%s)", short(err))
	again, _, err := svc.Create(ctx, req)
	check(err == nil && *again.RefundId == *r.RefundId, "idempotent re-apply (%s)", short(err))
	q, _, err := svc.QueryByOutRefundNo(ctx, refunddomestic.QueryByOutRefundNoRequest{OutRefundNo: core.String(no)})
	check(err == nil && *q.OutRefundNo == no, "query refund with |*@ (%s)", short(err))

	_, _, err = svc.Create(ctx, refunddomestic.CreateRequest{
		OutTradeNo: core.String("T-NO-SUCH-ORDER"), OutRefundNo: core.String("R-unknown"),
		Amount: &refunddomestic.AmountReq{Refund: core.Int64(1), Total: core.Int64(1), Currency: core.String("CNY")},
	})
	apiErr, ok := err.(*core.APIError)
	check(ok && apiErr.StatusCode == 404, "unknown order: the SDK's APIError with 404 (%s)", short(err))

	// What WeChat Pay refuses, the sandbox refuses (issue 25): the SDK validates nothing.
	amount := &refunddomestic.AmountReq{Refund: core.Int64(100), Total: core.Int64(10000), Currency: core.String("CNY")}
	_, _, err = svc.Create(ctx, refunddomestic.CreateRequest{
		OutTradeNo: core.String("T20261124001"), OutRefundNo: core.String("R-peer-url"), Amount: amount,
		NotifyUrl: core.String("https://merchant.example.com/notify?order=1"),
	})
	apiErr, ok = err.(*core.APIError)
	check(ok && apiErr.StatusCode == 400 && apiErr.Code == "PARAM_ERROR" && strings.Contains(apiErr.Body, "notify_url"),
		"notify_url with a query: 400 PARAM_ERROR naming notify_url (%s)", short(err))
	s, _ = control(base, "POST", "/sandbox/v1/faults", map[string]interface{}{"fault": "NOT_ENOUGH", "count": 1})
	check(s == 201, "NOT_ENOUGH injected through the control API")
	_, _, err = svc.Create(ctx, refunddomestic.CreateRequest{
		OutTradeNo: core.String("T20261124001"), OutRefundNo: core.String("R-peer-403"), Amount: amount,
	})
	apiErr, ok = err.(*core.APIError)
	check(ok && apiErr.StatusCode == 403 && apiErr.Code == "NOT_ENOUGH", "injected 403 NOT_ENOUGH (%s)", short(err))
	s, _ = control(base, "POST", "/sandbox/v1/faults", map[string]interface{}{"fault": "SYSTEM_ERROR", "after_processing": true})
	check(s == 201, "SYSTEM_ERROR after processing injected")
	_, _, err = svc.Create(ctx, refunddomestic.CreateRequest{
		OutTradeNo: core.String("T20261124001"), OutRefundNo: core.String("R-peer-500"), Amount: amount,
	})
	apiErr, ok = err.(*core.APIError)
	check(ok && apiErr.StatusCode == 500, "injected 500 SYSTEM_ERROR (%s)", short(err))
	hidden, _, err := svc.QueryByOutRefundNo(ctx, refunddomestic.QueryByOutRefundNoRequest{OutRefundNo: core.String("R-peer-500")})
	check(err == nil && *hidden.Amount.Refund == 100, "the 500 hid an accepted refund (%s)", short(err))

	// Abnormal refund, bank fields encrypted by the SDK's own helper.
	s, _ = control(base, "POST", "/sandbox/v1/refunds/"+url.PathEscape(no)+"/status", map[string]string{"status": "ABNORMAL"})
	check(s == 200, "refund made ABNORMAL through the control API")
	account, _ := utils.EncryptOAEPWithPublicKey("6212262000000000000", pub)
	name, _ := utils.EncryptOAEPWithPublicKey("张三", pub)
	h := http.Header{}
	h.Set("Wechatpay-Serial", c["wechatpay_public_key_id"])
	res, err := client.Request(ctx, http.MethodPost,
		"https://api.mch.weixin.qq.com/v3/refund/domestic/refunds/"+*r.RefundId+"/apply-abnormal-refund",
		h, nil, map[string]string{"out_refund_no": no, "type": "USER_BANK_CARD", "bank_type": "ICBC_DEBIT",
			"bank_account": account, "real_name": name}, "application/json")
	check(err == nil && res.Response.StatusCode == 200, "abnormal refund with SDK-encrypted fields (%s)", short(err))

	// A notification parsed by the SDK's own parser; a tampered one rejected.
	s, _ = control(base, "POST", "/sandbox/v1/refunds/"+url.PathEscape(no)+"/status", map[string]string{"status": "SUCCESS"})
	s, n := control(base, "GET", "/sandbox/v1/refunds/"+url.PathEscape(no)+"/notification", nil)
	check(s == 200, "notification fetched through the control API")
	handler := notify.NewNotifyHandler(c["api_v3_key"], verifiers.NewSHA256WithRSAPubkeyVerifier(c["wechatpay_public_key_id"], *pub))
	request := func(body string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, "https://merchant.example.com/notify", strings.NewReader(body))
		for k, v := range n["headers"].(map[string]interface{}) {
			req.Header.Set(k, v.(string))
		}
		return req
	}
	var content map[string]interface{}
	_, err = handler.ParseNotifyRequest(ctx, request(n["body"].(string)), &content)
	check(err == nil && content["refund_status"] == "SUCCESS" && content["out_refund_no"] == no,
		"notification parsed by the SDK (%s)", short(err))
	tampered := strings.Replace(n["body"].(string), "REFUND.SUCCESS", "REFUND.CLOSED", 1)
	_, err = handler.ParseNotifyRequest(ctx, request(tampered), &content)
	check(err != nil, "tampered notification rejected by the SDK")

	// Signed with the wrong key: 401 SIGN_ERROR.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	wrong, err := core.NewClient(ctx,
		option.WithWechatPayPublicKeyAuthCipher(c["mchid"], c["merchant_serial_no"], other, c["wechatpay_public_key_id"], pub),
		option.WithHTTPClient(&http.Client{Transport: redirect{to}}))
	check(err == nil, "client with another key")
	wrongSvc := refunddomestic.RefundsApiService{Client: wrong}
	_, _, err = wrongSvc.QueryByOutRefundNo(ctx,
		refunddomestic.QueryByOutRefundNoRequest{OutRefundNo: core.String(no)})
	apiErr, ok = err.(*core.APIError)
	check(ok && apiErr.StatusCode == 401 && apiErr.Code == "SIGN_ERROR", "wrong key: 401 SIGN_ERROR (%s)", short(err))
	fmt.Println("wechatpay-go peer: all checks passed")
}
