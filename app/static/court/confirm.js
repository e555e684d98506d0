// A button or form with data-confirm asks before the form is sent (issue 15 item 11):
// 申请结案, 结案, 录入结果, 化解成功 / 不成功, 绑定, 重新推送 cannot be pressed by accident.
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var question = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
}, true);
