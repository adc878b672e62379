"""The preset zlib dictionaries of compressed rows (codec.py): part of the format.

A message stored alone (a delta, a pending write, an input) is mostly LangChain's envelope:
the class path, the field names, the usage and response metadata keys. zlib cannot find those
repeats inside one small value; with a dictionary holding them it can (a 600-byte AIMessage
shrinks about twice as much). The bytes are the serializer's msgpack of a SystemMessage, an
AIMessage with a tool call and typical usage metadata, a ToolMessage, a bare AIMessage and
`{"messages": [HumanMessage]}`, all with empty content, as langchain-core 1.x wrote them.

CHECKPOINT_V1 does the same for a checkpoint's own fields (codec.pack): LangGraph's keys,
its reserved channel names, and the shape of a timestamp and of a version.

Rows name their dictionary (a blob's or write's format, a body's first bytes), so these bytes
must never change: a different dictionary gets a new name.
"""

from __future__ import annotations

import base64

MESSAGES_V1 = base64.b64decode(
    """
    kceJBZS+bGFuZ2NoYWluX2NvcmUubWVzc2FnZXMuc3lzdGVtrVN5c3RlbU1lc3NhZ2WGp2NvbnRlbnSgsWFkZGl0
    aW9uYWxfa3dhcmdzgLFyZXNwb25zZV9tZXRhZGF0YYCkdHlwZaZzeXN0ZW2kbmFtZcCiaWSheLNtb2RlbF92YWxp
    ZGF0ZV9qc29ukcgCVAWUumxhbmdjaGFpbl9jb3JlLm1lc3NhZ2VzLmFpqUFJTWVzc2FnZYmnY29udGVudKCxYWRk
    aXRpb25hbF9rd2FyZ3OAsXJlc3BvbnNlX21ldGFkYXRhi6t0b2tlbl91c2FnZYWxY29tcGxldGlvbl90b2tlbnMA
    rXByb21wdF90b2tlbnMArHRvdGFsX3Rva2VucwC5Y29tcGxldGlvbl90b2tlbnNfZGV0YWlsc8C1cHJvbXB0X3Rv
    a2Vuc19kZXRhaWxzwKptb2RlbF9uYW1loLJzeXN0ZW1fZmluZ2VycHJpbnTAomlkoKxzZXJ2aWNlX3RpZXKnZGVm
    YXVsdK1maW5pc2hfcmVhc29upHN0b3CobG9ncHJvYnPArm1vZGVsX3Byb3ZpZGVypm9wZW5haatzdG9wX3JlYXNv
    bqhlbmRfdHVybq1zdG9wX3NlcXVlbmNlwKV1c2FnZYCkdHlwZaJhaaRuYW1lwKJpZKF4qnRvb2xfY2FsbHORhKRu
    YW1loW6kYXJnc4CiaWSlY2FsbF+kdHlwZal0b29sX2NhbGyyaW52YWxpZF90b29sX2NhbGxzkK51c2FnZV9tZXRh
    ZGF0YYWsaW5wdXRfdG9rZW5zAK1vdXRwdXRfdG9rZW5zAKx0b3RhbF90b2tlbnMAs2lucHV0X3Rva2VuX2RldGFp
    bHOCpWF1ZGlvAKpjYWNoZV9yZWFkALRvdXRwdXRfdG9rZW5fZGV0YWlsc4KlYXVkaW8AqXJlYXNvbmluZwCzbW9k
    ZWxfdmFsaWRhdGVfanNvbpHHsAWUvGxhbmdjaGFpbl9jb3JlLm1lc3NhZ2VzLnRvb2yrVG9vbE1lc3NhZ2WJp2Nv
    bnRlbnSgsWFkZGl0aW9uYWxfa3dhcmdzgLFyZXNwb25zZV9tZXRhZGF0YYCkdHlwZaR0b29spG5hbWWhbqJpZKF4
    rHRvb2xfY2FsbF9pZKVjYWxsX6hhcnRpZmFjdMCmc3RhdHVzp3N1Y2Nlc3OzbW9kZWxfdmFsaWRhdGVfanNvbpHH
    rQWUumxhbmdjaGFpbl9jb3JlLm1lc3NhZ2VzLmFpqUFJTWVzc2FnZYmnY29udGVudKCxYWRkaXRpb25hbF9rd2Fy
    Z3OAsXJlc3BvbnNlX21ldGFkYXRhgKR0eXBlomFppG5hbWXAomlkoXiqdG9vbF9jYWxsc5CyaW52YWxpZF90b29s
    X2NhbGxzkK51c2FnZV9tZXRhZGF0YcCzbW9kZWxfdmFsaWRhdGVfanNvboGobWVzc2FnZXORx4YFlL1sYW5nY2hh
    aW5fY29yZS5tZXNzYWdlcy5odW1hbqxIdW1hbk1lc3NhZ2WGp2NvbnRlbnSgsWFkZGl0aW9uYWxfa3dhcmdzgLFy
    ZXNwb25zZV9tZXRhZGF0YYCkdHlwZaVodW1hbqRuYW1lwKJpZKF4s21vZGVsX3ZhbGlkYXRlX2pzb24=    """
)
MESSAGES_V1_SHA256 = "7282ceb75194d357921b3f60f0e3d9739f965e119d3c8d85942e58e42ba5870a"

CHECKPOINT_V1 = base64.b64decode(
    """
    hKF2BKJ0c9kgMjAwMC0wMS0wMVQwMDowMDowMC4wMDAwMDArMDA6MDCtdmVyc2lvbnNfc2VlboOpX19pbnB1dF9f
    gKlfX3N0YXJ0X1+BqV9fc3RhcnRfX61hMS4wMDAwMDAwMDAwpWFnZW50iK9icmFuY2g6dG86YWdlbnStYTIuMDAw
    MDAwMDAwMK1fX2ludGVycnVwdF9fpGEzLjCqX19yZXN1bWVfX6RhNC4wrl9fcHJlZ2VsX3Rhc2tzpGE1LjCpX19l
    cnJvcl9fpGE2LjCtX19zY2hlZHVsZWRfX6RhNy4wql9fcmV0dXJuX1+kYTguMKxfX3ByZXZpb3VzX1+kYTkuMLB1
    cGRhdGVkX2NoYW5uZWxzk6lfX3N0YXJ0X1+qYnJhbmNoOnRvOqhtZXNzYWdlcw==
    """
)
CHECKPOINT_V1_SHA256 = "fb50559087b1736c0d10b85024dddb9892a5c087651215c5736cfb6f6f10a132"
