"""Reading the request's edges: which client sent it (trusted proxies only) and whether an Origin is exactly ours."""

from __future__ import annotations

from chalicelib.api.http import forwarded_client, same_origin


def test_a_forwarded_list_names_the_client_the_given_number_of_hops_from_the_right() -> None:
    # X-Forwarded-For as MDN documents it, "<client>, <proxy1>, <proxy2>", each proxy appending what it saw; the
    # examples are MDN's (https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/X-Forwarded-For)
    header = "x-forwarded-for"
    mdn = "203.0.113.195,2001:db8:85a3:8d3:1319:8a2e:370:7348,198.51.100.178"
    assert forwarded_client(mdn, header, 1) == "198.51.100.178"
    assert forwarded_client(mdn, header, 2) == "2001:db8:85a3:8d3:1319:8a2e:370:7348"
    assert forwarded_client(mdn, header, 3) == "203.0.113.195"
    assert forwarded_client("203.0.113.195", header, 1) == "203.0.113.195"
    assert forwarded_client("10.0.0.1, 203.0.113.195", header, 1) == "203.0.113.195"  # the sender wrote 10.0.0.1
    assert forwarded_client("203.0.113.195, 198.51.100.178", header, 2) == "203.0.113.195"
    assert forwarded_client("2001:db8:85a3:8d3:1319:8a2e:370:7348", header, 1) == "2001:db8:85a3:8d3:1319:8a2e:370:7348"
    assert forwarded_client("[2001:db8::1]:4711", header, 1) == "2001:db8::1"
    assert forwarded_client("203.0.113.195", header, 2) is None  # did not pass through both proxies
    assert forwarded_client("unknown", header, 1) is None and forwarded_client(None, header, 1) is None
    assert forwarded_client("", header, 1) is None


def test_cloudfront_viewer_address_is_an_address_and_a_port() -> None:
    # AWS CloudFront developer guide, "Add CloudFront request headers": CloudFront-Viewer-Address is IP:port,
    # IPv6 unbracketed (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/adding-cloudfront-headers.html)
    header = "cloudfront-viewer-address"
    assert forwarded_client("198.51.100.10:46532", header, 1) == "198.51.100.10"
    assert (
        forwarded_client("2001:0db8:85a3:0000:0000:8a2e:0370:7334:46532", header, 1) == "2001:db8:85a3::8a2e:370:7334"
    )
    assert forwarded_client("198.51.100.10", header, 1) is None


def test_only_the_exact_public_origin_is_same_origin() -> None:
    base = "https://track.example.test"
    assert same_origin("https://track.example.test", base)
    assert same_origin("https://TRACK.example.test:443", base)
    assert same_origin("https://track.example.test", "https://track.example.test/api")  # a stage path is no part of it
    for origin in (
        "null",
        "",
        None,
        "https://track.example",  # a prefix of ours
        "https://track.example.test.evil.example",  # ours as a prefix
        "https://track.example.test:8443",
        "http://track.example.test",
        "https://track.example.test/",
        "https://track.example.test@evil.example",
        "https://track.example.test:99999",
        " https://track.example.test",
    ):
        assert not same_origin(origin, base), origin
    assert same_origin("http://127.0.0.1:8000", "http://127.0.0.1:8000")
    assert not same_origin("http://127.0.0.1", "http://127.0.0.1:8000")
