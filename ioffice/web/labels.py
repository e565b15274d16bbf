"""Vietnamese wording of audit tags, for the history timeline."""

HISTORY_LABELS = {
    "incoming:document:receive": "tiếp nhận văn bản điện tử từ trục liên thông",
    "incoming:document:register": "vào sổ văn bản đến",
    "incoming:document:reject": "từ chối văn bản",
    "incoming:document:distribute": "phân phối, giao xử lý",
    "incoming:assignment:pass-on": "giao tiếp cho chuyên viên",
    "incoming:assignment:progress": "cập nhật tiến độ",
    "incoming:assignment:extension-request": "xin gia hạn",
    "incoming:assignment:extension-approve": "đồng ý gia hạn",
    "incoming:assignment:extension-refuse": "không đồng ý gia hạn",
    "incoming:assignment:finish": "hoàn thành xử lý",
    "incoming:assignment:return": "trả lại",
    "incoming:document:revoke": "văn bản bị bên gửi thu hồi, đóng các việc đang xử lý",
    "incoming:assignment:reassign": "quản trị chuyển việc",
    "incoming:document:replace": "văn bản được thay thế",
}


def history_label(tag: str) -> str:
    return HISTORY_LABELS.get(tag, tag)
