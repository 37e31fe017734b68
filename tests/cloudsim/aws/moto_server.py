"""Run moto in server mode with SigV4 checking on, for integration tests.

moto verifies signatures (with botocore) and IAM policies only after its
first INITIAL_NO_AUTH_ACTION_COUNT requests; we spend those creating one
IAM user with an allow-all policy and an access key, so every request the
code under test sends afterwards is authenticated like on AWS.

    with MotoServer() as moto:
        env = moto.env()  # AWS_ENDPOINT_URL, keys, region for the CLI
        ec2 = moto.client("ec2")  # a boto3 client with the verified key
"""
import os
import socket
import subprocess
import sys
import time
import urllib.request

# Calls spent on setup: CreateUser, PutUserPolicy, CreateAccessKey.
SETUP_CALLS = 3
ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    def __init__(self, region="us-east-1", log_path=None):
        self.region = region
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log_path = log_path
        self.proc = None
        self.key_id = self.secret = None

    def __enter__(self):
        env = dict(os.environ)
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(SETUP_CALLS)
        for k in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "HTTP_PROXY", "HTTPS_PROXY"):
            env.pop(k, None)
        log = open(self.log_path or os.devnull, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1).read()
                break
            except Exception:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("moto server did not start on %s" % self.url)
                time.sleep(0.1)
        import boto3
        iam = boto3.client("iam", endpoint_url=self.url, region_name=self.region,
                           aws_access_key_id="AKIASETUP0000000000", aws_secret_access_key="setup")
        iam.create_user(UserName="cloudprotect-test")
        iam.put_user_policy(UserName="cloudprotect-test", PolicyName="all",
                            PolicyDocument=ALLOW_ALL)
        key = iam.create_access_key(UserName="cloudprotect-test")["AccessKey"]
        self.key_id, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        return self

    def __exit__(self, *exc):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def env(self, base=None):
        """Environment for a child process (the CLI) that talks to this server."""
        e = dict(os.environ if base is None else base)
        for k in list(e):
            if k.startswith("AWS_"):
                del e[k]
        e.update(AWS_ENDPOINT_URL=self.url, AWS_ACCESS_KEY_ID=self.key_id,
                 AWS_SECRET_ACCESS_KEY=self.secret, AWS_REGION=self.region,
                 AWS_EC2_METADATA_DISABLED="true")
        return e

    def client(self, service, region=None):
        import boto3
        return boto3.client(service, endpoint_url=self.url, region_name=region or self.region,
                            aws_access_key_id=self.key_id, aws_secret_access_key=self.secret)


if __name__ == "__main__":
    # Self-check: a verified key works, a wrong secret is refused.
    with MotoServer() as m:
        m.client("ec2").describe_vpcs()
        import boto3
        bad = boto3.client("ec2", endpoint_url=m.url, region_name=m.region,
                           aws_access_key_id=m.key_id, aws_secret_access_key="wrong")
        try:
            bad.describe_vpcs()
        except Exception as e:
            print("refused as expected:", str(e)[:80])
        else:
            sys.exit("a wrong secret was accepted: signatures are not checked")
        print("ok", m.url)
